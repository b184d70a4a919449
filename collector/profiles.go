package collector

import (
	"bytes"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

// The per-object series are several per object: 77,000 for 10,000
// Customer-Profiles. Built as const metrics and gathered by client_golang,
// a scrape of them took over half a second and 64 MB of garbage (see the
// benchmark). So in the two text formats they are written straight from
// the snapshots, line by line: nothing per series is allocated. A full
// scrape keeps its block until the snapshots change (block.go); a probe
// writes its own straight into the response. Tests hold the output to
// what expfmt's own encoders write for the same series, in both formats,
// for every kind. For protobuf, which has no such shortcut,
// ProfileFamilies builds the metric families for expfmt's encoder, still
// without const metrics.
//
// Each family is described once per kind, by what its series are (series
// below), from the kind's declaration; the sink turns them into whichever
// form the scrape needs.

// objectFamily is one per-object family of one kind.
type objectFamily struct {
	name, help string
	kind       *kinds.Kind
	// info are the info series' labels in label-name order (the order
	// client_golang sorts them in): the account, the kind's InfoLabels
	// and the sid.
	info []infoLabel
	// series adds the family's series for one object to k.
	series func(k *sink, f *objectFamily, account string, p *snapshot.Record)
	// whole, set instead of series for a family not of each object,
	// adds the family's series for one snapshot to k.
	whole func(k *sink, account string, snap *snapshot.Snapshot)
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
		{prefix + infoSuffix, "Always 1: one series per " + k.Object + ", naming it." + cached, k, info,
			func(k *sink, f *objectFamily, account string, p *snapshot.Record) {
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
				k.add(1, k.labels...)
			}, nil},
		{prefix + statusSuffix, statusHelp + cached, k, nil,
			func(k *sink, f *objectFamily, account string, p *snapshot.Record) {
				if sparseStatus {
					// The 0s say nothing a "== 1" selection needs, and
					// are most of the family's series: four in five for
					// Customer-Profiles.
					k.add(1, "account", account, "sid", p.SID, "status", p.Status)
					return
				}
				documented := false
				for _, st := range f.kind.Statuses {
					v := 0.0
					if st == p.Status {
						v, documented = 1, true
					}
					k.add(v, "account", account, "sid", p.SID, "status", st)
				}
				if !documented {
					k.add(1, "account", account, "sid", p.SID, "status", p.Status)
				}
			}, nil},
	}
	for _, field := range k.Values {
		what := "The " + k.Object + "'s " + k.Key(field)
		if field.Type() == kinds.Time {
			what += " as Unix time"
		}
		fams = append(fams, objectFamily{prefix + field.FamilySuffix(), what + "; absent when null." + cached, k, nil,
			func(k *sink, _ *objectFamily, account string, p *snapshot.Record) {
				if v, ok := p.Value(field); ok {
					k.add(v, "account", account, "sid", p.SID)
				}
			}, nil})
	}
	if k.ErrorInfo() {
		fams = append(fams, objectFamily{prefix + errorInfoSuffix, "Always 1: one series per code in the " + k.Object + "'s errors list." + cached, k, nil,
			func(k *sink, _ *objectFamily, account string, p *snapshot.Record) {
				for _, c := range p.ErrorCodes {
					k.add(1, "account", account, "code", k.code(c), "sid", p.SID)
				}
			}, nil})
	}
	if u := k.Uses; u != nil {
		// What uses each object with a problem: one series per subject
		// (and value of By), labels in name order: account, then the
		// subject's and By's labels, whichever sorts first.
		byLabel := u.By.Label()
		fams = append(fams, objectFamily{name: u.Metric, help: u.Help + cached, kind: k,
			whole: func(k *sink, account string, snap *snapshot.Snapshot) {
				snap.EachUsage(func(sid string, use snapshot.Usage) {
					for _, c := range use {
						switch {
						case !u.CountsBy():
							k.add(float64(c.N), "account", account, u.SubjectLabel, sid)
						case u.SubjectLabel < byLabel:
							k.add(float64(c.N), "account", account, u.SubjectLabel, sid, byLabel, c.By)
						default:
							k.add(float64(c.N), "account", account, byLabel, c.By, u.SubjectLabel, sid)
						}
					}
				})
			}})
	}
	return fams
}

// flushAt is how much is gathered before it is written out.
const flushAt = 32 << 10

// WriteProfiles writes the per-object series of every listing whose
// snapshot the scrape serves, in the Prometheus text format (0.0.4; 1.0.0
// reads the same, as every name here is a legacy one). It writes nothing
// when per_object_metrics is off.
func (s *Scrape) WriteProfiles(w io.Writer) error {
	return s.writeText(w, false)
}

// WriteProfilesOpenMetrics is WriteProfiles in the OpenMetrics text format
// (1.0.0; 0.0.1 reads the same). It does not end the exposition: the
// "# EOF" line comes after every family, so the caller writes it.
func (s *Scrape) WriteProfilesOpenMetrics(w io.Writer) error {
	return s.writeText(w, true)
}

func (s *Scrape) writeText(w io.Writer, openMetrics bool) error {
	if !s.e.perObject {
		return nil
	}
	if s.full && s.objects() <= maxKeptObjects {
		c := &s.e.textBlock
		if openMetrics {
			c = &s.e.openMetricsBlock
		}
		_, err := w.Write(c.block(s, func(hint int) []byte { return s.renderText(openMetrics, hint) }))
		return err
	}
	return s.streamText(w, openMetrics)
}

// maxKeptObjects bounds the per-object block kept between scrapes. The
// block costs about 1 KB per object in each text format scraped, and it is
// rendered whole before it is kept: at 100,000 objects that was 100 MB a
// format and a peak RSS of 505 MiB against 116 MiB streamed. Past the
// bound, a scrape streams the block as it did before it was kept (7 ms per
// 10,000 objects), which costs a little CPU and no memory.
const maxKeptObjects = 25_000

// objects counts the per-object records the scrape serves.
func (s *Scrape) objects() int {
	n := 0
	for _, st := range s.states {
		if st.Snapshot != nil {
			n += len(st.Snapshot.Records)
		}
	}
	return n
}

// renderText returns the whole per-object block in one text format, in
// a buffer of sizeHint bytes to start with.
func (s *Scrape) renderText(openMetrics bool, sizeHint int) []byte {
	k := sink{openMetrics: openMetrics, b: make([]byte, 0, sizeHint)}
	_ = s.eachProfile(&k, nil) // nothing to write, so no error
	return slices.Clip(k.b)
}

// streamText writes the per-object block into w as it is formatted,
// flushAt bytes at a time: nothing of it is kept.
func (s *Scrape) streamText(w io.Writer, openMetrics bool) error {
	k := sink{openMetrics: openMetrics, b: make([]byte, 0, flushAt+4<<10)}
	err := s.eachProfile(&k, func() error {
		if len(k.b) < flushAt {
			return nil
		}
		_, err := w.Write(k.b)
		k.b = k.b[:0]
		return err
	})
	if err != nil {
		return err
	}
	_, err = w.Write(k.b)
	return err
}

// ProfileFamilies returns the per-object series as metric families, for
// the formats that are not written directly (protobuf). The series within
// a family are in listing order, not sorted as a registry
// would: no format needs that. Nil when per_object_metrics is off.
func (s *Scrape) ProfileFamilies() []*dto.MetricFamily {
	k := sink{protobuf: true}
	_ = s.eachProfile(&k, nil) // nothing to write, so no error
	return k.families
}

// eachProfile has k add the series of every family, kind by kind and
// family by family, for every object of every served snapshot of the
// kind, and calls after, if not nil, after each object.
func (s *Scrape) eachProfile(k *sink, after func() error) error {
	if !s.e.perObject {
		return nil
	}
	for _, m := range s.e.kinds {
		for i := range m.families {
			f := &m.families[i]
			k.start(f)
			for j, l := range s.v.listings {
				snap := s.states[j].Snapshot
				if snap == nil || l.Kind != m.kind {
					continue
				}
				if f.whole != nil {
					f.whole(k, l.Account, snap)
					if after != nil {
						if err := after(); err != nil {
							return err
						}
					}
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
					if after != nil {
						if err := after(); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return nil
}

// sink receives the series of one family after another: in a text format
// it appends them to b, for protobuf it builds metric families. One
// concrete type rather than an interface, so that add's labels stay on the
// caller's stack.
type sink struct {
	f *objectFamily
	// labels is the info series' reused label buffer.
	labels []string
	// header says whether f's HELP and TYPE lines are written: only once
	// it has a series, as a family without series is not written at all.
	header      bool
	openMetrics bool
	b           []byte

	protobuf bool
	families []*dto.MetricFamily
	mf       *dto.MetricFamily
	metrics  slab[dto.Metric]
	gauges   slab[dto.Gauge]
	pairs    slab[dto.LabelPair]
	ptrs     []*dto.LabelPair
	strs     slab[string]
	names    []*string
	floats   slab[float64]

	codes map[int64]string
}

// start begins family f.
func (k *sink) start(f *objectFamily) {
	k.f, k.header, k.mf = f, false, nil
}

// add adds a series of the current family: its value, and its labels as
// name, value pairs in label-name order.
func (k *sink) add(v float64, labels ...string) {
	if k.protobuf {
		k.addMetric(v, labels)
		return
	}
	if !k.header {
		k.b = appendHeader(k.b, k.f.name, k.f.help, k.openMetrics)
		k.header = true
	}
	k.b = appendSeries(k.b, k.f.name, labels...)
	if k.openMetrics {
		k.b = appendOpenMetricsValue(k.b, v)
	} else {
		k.b = appendValue(k.b, v)
	}
}

// addMetric is add for protobuf. The messages are cut from slabs: a few
// allocations per thousand series rather than several per series.
func (k *sink) addMetric(v float64, labels []string) {
	if k.mf == nil {
		// Copies: the family table is not the encoder's to change.
		name, help := k.f.name, k.f.help
		k.mf = &dto.MetricFamily{Name: &name, Help: &help, Type: dto.MetricType_GAUGE.Enum()}
		k.families = append(k.families, k.mf)
	}
	n := len(labels) / 2
	if len(k.ptrs) < n {
		k.ptrs = make([]*dto.LabelPair, slabSize)
	}
	m, g, f := k.metrics.next(), k.gauges.next(), k.floats.next()
	*f = v
	g.Value = f
	m.Gauge = g
	m.Label, k.ptrs = k.ptrs[:n:n], k.ptrs[n:]
	var prev []*dto.LabelPair
	if l := len(k.mf.Metric); l > 0 {
		prev = k.mf.Metric[l-1].Label
	}
	for i := range n {
		name, value := labels[2*i], labels[2*i+1]
		// A label the previous series has too (the account, the sid of
		// an object's statuses) shares its pair: messages are only read.
		if i < len(prev) && prev[i].GetName() == name && prev[i].GetValue() == value {
			m.Label[i] = prev[i]
			continue
		}
		v := k.strs.next()
		*v = value
		lp := k.pairs.next()
		lp.Name, lp.Value = k.labelName(name), v
		m.Label[i] = lp
	}
	k.mf.Metric = append(k.mf.Metric, m)
}

// labelName returns the one copy of a label name that every series of
// the scrape shares: there are a handful of names and many series.
func (k *sink) labelName(name string) *string {
	for _, p := range k.names {
		if *p == name {
			return p
		}
	}
	p := new(string) // not &name: that would move every call's name to the heap
	*p = name
	k.names = append(k.names, p)
	return p
}

// code returns an error code as a label value. The text formats could
// append it as digits, but a label value is a string; a scrape's few
// distinct codes are converted once each.
func (k *sink) code(c int64) string {
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

const slabSize = 1024

// slab hands out values of T from arrays allocated slabSize at a time.
type slab[T any] struct{ free []T }

func (s *slab[T]) next() *T {
	if len(s.free) == 0 {
		s.free = make([]T, slabSize)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// appendHeader appends a family's HELP and TYPE lines. OpenMetrics
// escapes a double quote in HELP as well, where the Prometheus text format
// leaves it.
func appendHeader(b []byte, name, help string, openMetrics bool) []byte {
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = appendEscaped(b, help, openMetrics)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	return append(b, " gauge\n"...)
}

// appendSeries appends a series name and its labels, given as name, value
// pairs in label-name order. Both text formats write it the same way.
func appendSeries(b []byte, name string, labels ...string) []byte {
	b = append(b, name...)
	b = append(b, '{')
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, labels[i]...)
		b = append(b, `="`...)
		b = appendEscaped(b, labels[i+1], true)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendValue appends " value\n" as the Prometheus text format writes
// floats.
func appendValue(b []byte, v float64) []byte {
	b = append(b, ' ')
	switch {
	case math.IsNaN(v):
		b = append(b, "NaN"...)
	case math.IsInf(v, 1):
		b = append(b, "+Inf"...)
	case math.IsInf(v, -1):
		b = append(b, "-Inf"...)
	case v == 0:
		b = append(b, '0') // -0 too, as expfmt writes it
	default:
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return append(b, '\n')
}

// appendOpenMetricsValue appends " value\n" as OpenMetrics writes floats:
// a whole number as a float ("1.0"), as expfmt does.
func appendOpenMetricsValue(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return appendValue(b, v)
	}
	if v == 0 {
		return append(b, " 0.0\n"...) // -0 too, as expfmt writes it
	}
	b = append(b, ' ')
	n := len(b)
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	if !bytes.ContainsAny(b[n:], ".e") {
		b = append(b, ".0"...)
	}
	return append(b, '\n')
}

// appendEscaped escapes as the text formats do: a backslash and a newline
// always, a double quote when quote is set.
func appendEscaped(b []byte, s string, quote bool) []byte {
	if !strings.ContainsAny(s, "\\\n\"") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}
