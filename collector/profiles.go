package collector

import (
	"slices"
	"strconv"
	"strings"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/exposition"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

// The per-object series are several per object: 77,000 for 10,000
// Customer-Profiles. They are yielded to the exposition encoder straight
// from the snapshots, nothing per series allocated (see package
// exposition). A full scrape keeps its block until the snapshots change
// (Exporter.objects); a probe writes its own. Each family is described
// once per kind, by what its series are (series below), from the kind's
// declaration.

// objectFamily is one per-object family of one kind.
type objectFamily struct {
	*exposition.Family
	kind *kinds.Kind
	// info are the info series' labels in label-name order (the order
	// client_golang sorts them in): the account, the kind's InfoLabels
	// and the sid.
	info []infoLabel
	// series adds the family's series for one object to k.
	series func(k *writer, f *objectFamily, account string, p *snapshot.Record)
	// whole, set instead of series for a family not of each object,
	// adds the family's series for one snapshot to k.
	whole func(k *writer, account string, snap *snapshot.Snapshot)
}

// infoLabel is a label of the info series: the account, the sid, or the
// record's Labels[index].
type infoLabel struct {
	name         string
	account, sid bool
	index        int
}

// Family name suffixes of the per-object series; the dates' and numbers'
// come with their fields (kinds.Field.FamilySuffix).
const (
	infoSuffix      = "_info"
	statusSuffix    = "_status"
	errorInfoSuffix = "_error_info"
)

// objectFamilies returns kind k's per-object families, in the order they
// are written. Labels are given to sink.add as name, value pairs in
// label-name order. With sparseStatus the status family writes only each
// object's current status (per_object_status: sparse).
func objectFamilies(k *kinds.Kind, sparseStatus bool) []objectFamily {
	prefix := k.Metric(k.Singular)
	info := []infoLabel{{name: "account", account: true}, {name: "sid", sid: true}}
	for i, f := range k.InfoLabels {
		info = append(info, infoLabel{name: f.Label(), index: i})
	}
	slices.SortFunc(info, func(a, b infoLabel) int { return strings.Compare(a.name, b.name) })
	statusHelp := "1 for the " + k.Object + "'s status, 0 for each other documented status."
	if sparseStatus {
		statusHelp = "Always 1: one series per " + k.Object + ", for its status (per_object_status: sparse)."
	}
	fams := []objectFamily{
		{gaugeOf(prefix+infoSuffix, "Always 1: one series per "+k.Object+", naming it."+cached), k, info,
			func(k *writer, f *objectFamily, account string, p *snapshot.Record) {
				k.labels = k.labels[:0]
				for _, l := range f.info {
					var v string
					switch {
					case l.account:
						v = account
					case l.sid:
						v = p.SID
					case l.index < len(p.Labels):
						v = p.Labels[l.index]
					}
					k.labels = append(k.labels, l.name, v)
				}
				k.e.Add(1, k.labels...)
			}, nil},
		{gaugeOf(prefix+statusSuffix, statusHelp+cached), k, nil,
			func(k *writer, f *objectFamily, account string, p *snapshot.Record) {
				if sparseStatus {
					// The 0s say nothing a "== 1" selection needs, and
					// are most of the family's series: four in five for
					// Customer-Profiles.
					k.e.Add(1, "account", account, "sid", p.SID, "status", p.Status)
					return
				}
				documented := false
				for _, st := range f.kind.Statuses {
					v := 0.0
					if st == p.Status {
						v, documented = 1, true
					}
					k.e.Add(v, "account", account, "sid", p.SID, "status", st)
				}
				if !documented {
					k.e.Add(1, "account", account, "sid", p.SID, "status", p.Status)
				}
			}, nil},
	}
	for _, field := range k.Values {
		what := "The " + k.Object + "'s " + k.Key(field)
		if field.Type() == kinds.Time {
			what += " as Unix time"
		}
		fams = append(fams, objectFamily{gaugeOf(prefix+field.FamilySuffix(), what+"; absent when null."+cached), k, nil,
			func(k *writer, _ *objectFamily, account string, p *snapshot.Record) {
				if v, ok := p.Value(field); ok {
					k.e.Add(v, "account", account, "sid", p.SID)
				}
			}, nil})
	}
	if k.ErrorInfo() {
		fams = append(fams, objectFamily{gaugeOf(prefix+errorInfoSuffix, "Always 1: one series per code in the "+k.Object+"'s errors list."+cached), k, nil,
			func(k *writer, _ *objectFamily, account string, p *snapshot.Record) {
				for _, c := range p.ErrorCodes {
					k.e.Add(1, "account", account, "code", k.code(c), "sid", p.SID)
				}
			}, nil})
	}
	if u := k.Uses; u != nil {
		// What uses each object with a problem: one series per subject
		// (and value of By), labels in name order: account, then the
		// subject's and By's labels, whichever sorts first.
		byLabel := u.By.Label()
		fams = append(fams, objectFamily{Family: gaugeOf(u.Metric, u.Help+cached), kind: k,
			whole: func(k *writer, account string, snap *snapshot.Snapshot) {
				snap.EachUsage(func(sid string, use snapshot.Usage) {
					for _, c := range use {
						switch {
						case !u.CountsBy():
							k.e.Add(float64(c.N), "account", account, u.SubjectLabel, sid)
						case u.SubjectLabel < byLabel:
							k.e.Add(float64(c.N), "account", account, u.SubjectLabel, sid, byLabel, c.By)
						default:
							k.e.Add(float64(c.N), "account", account, byLabel, c.By, u.SubjectLabel, sid)
						}
					}
				})
			}})
	}
	return fams
}

func gaugeOf(name, help string) *exposition.Family {
	return exposition.NewFamily(name, help, exposition.Gauge)
}

// writeObjects writes the per-object series of every listing whose
// snapshot the scrape serves; nothing when per_object_metrics is off. A
// full scrape's are kept between scrapes, compressed: about 70 bytes per
// object in each text format scraped (1 KB as text), never held whole as
// text, spliced into each gzipped answer (exposition.Cache). A probe
// writes its own.
func (s *Scrape) writeObjects(e *exposition.Encoder) {
	if !s.e.perObject {
		return
	}
	if !s.full {
		s.eachObject(e)
		return
	}
	snaps := make([]*snapshot.Snapshot, len(s.states))
	for i, st := range s.states {
		snaps[i] = st.Snapshot
	}
	s.e.objects.Write(e, s.v, snaps, s.eachObject)
}

// eachObject gives e the series of every per-object family, kind by kind
// and family by family, for every object of every served snapshot of the
// kind.
func (s *Scrape) eachObject(e *exposition.Encoder) {
	k := newWriter(e)
	for _, m := range s.e.kinds {
		for i := range m.families {
			f := &m.families[i]
			e.Family(f.Family)
			for j, l := range s.v.listings {
				snap := s.states[j].Snapshot
				if snap == nil || l.Kind != m.kind {
					continue
				}
				if f.whole != nil {
					f.whole(k, l.Account, snap)
					continue
				}
				for n := range snap.Records {
					p := &snap.Records[n]
					if p.SID == "" {
						// Without a sid the series of two such objects
						// would collide; they are still in the counts.
						continue
					}
					f.series(k, f, l.Account, p)
				}
			}
		}
	}
}

// writer is what the family table writes through: the encoder, and what
// the series of one scrape share.
type writer struct {
	e *exposition.Encoder
	// labels is the info series' reused label buffer.
	labels []string
	codes  map[int64]string
}

func newWriter(e *exposition.Encoder) *writer { return &writer{e: e} }

// code returns an error or HTTP status code as a label value. The text
// formats could append it as digits, but a label value is a string; a
// scrape's few distinct codes are converted once each.
func (k *writer) code(c int64) string {
	if s, ok := k.codes[c]; ok {
		return s
	}
	if k.codes == nil {
		k.codes = map[int64]string{}
	}
	s := strconv.FormatInt(c, 10)
	k.codes[c] = s
	return s
}
