package collector

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/trusthub"
)

// reference builds the per-profile series the plain client_golang way, as
// const metrics, and lets its encoder write them: what WriteProfiles must
// match line for line.
type reference struct {
	account string
	snap    *snapshot.Snapshot
}

func (r reference) Describe(chan<- *prometheus.Desc) {}

func (r reference) Collect(ch chan<- prometheus.Metric) {
	for _, f := range profileFamilies {
		labels := map[string][]string{
			InfoName:       {"account", "sid", "friendly_name", "policy_sid"},
			StatusName:     {"account", "sid", "status"},
			ValidUntilName: {"account", "sid"},
			UpdatedName:    {"account", "sid"},
			ErrorInfoName:  {"account", "sid", "code"},
		}[f.name]
		d := prometheus.NewDesc(f.name, f.help, labels, nil)
		gauge := func(v float64, values ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{r.account}, values...)...)
		}
		for _, p := range r.snap.Profiles {
			if p.SID == "" {
				continue
			}
			switch f.name {
			case InfoName:
				gauge(1, p.SID, p.FriendlyName, p.PolicySID)
			case StatusName:
				for _, st := range trusthub.Statuses {
					gauge(map[bool]float64{true: 1}[st == p.Status], p.SID, st)
				}
				if !slices.Contains(trusthub.Statuses, p.Status) {
					gauge(1, p.SID, p.Status)
				}
			case ValidUntilName:
				if p.HasValidUntil {
					gauge(p.ValidUntil, p.SID)
				}
			case UpdatedName:
				if p.HasUpdated {
					gauge(p.Updated, p.SID)
				}
			case ErrorInfoName:
				for _, c := range p.ErrorCodes {
					gauge(1, p.SID, strconv.FormatInt(c, 10))
				}
			}
		}
	}
}

// sortedLines returns the lines of an exposition, sorted, so that two
// writers that order series differently compare equal.
func sortedLines(text string) []string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	slices.Sort(lines)
	return lines
}

func TestWriteProfilesMatchesClientGolang(t *testing.T) {
	p := simulator.Ptr[string]
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	profiles := []simulator.ServedProfile{
		{SID: p("BU01"), Status: p("twilio-approved"), FriendlyName: p(`Quote " and backslash \ and newline` + "\n" + `end`), PolicySID: p("RN1"),
			ValidUntil: at("2027-01-01T00:00:00.5Z"), DateUpdated: at("1969-12-31T23:59:59Z")},
		{SID: p("BU02"), Status: p("twilio-rejected"), FriendlyName: p("Ünïcode ☎ café"), Errors: []simulator.ErrorCode{{Code: 22215}, {Code: -1}, {Code: 0}}},
		{SID: p("BU03"), Status: p("twilio-suspended"), ValidUntil: at("9999-12-31T23:59:59Z"), DateUpdated: at("2026-11-27T12:00:00.123456789Z")},
		{SID: p("BU04")}, // a null status: "unknown"
		{},               // no sid: no series
	}
	sim := simulator.New()
	sim.AddAccount(sidMain, "tok", profiles)
	srv := httptest.NewServer(sim)
	defer srv.Close()
	spec := config.Default()
	spec.APIURL = srv.URL
	spec.Accounts = []config.AccountSpec{{Name: `acc "one"`, AccountSID: sidMain, AuthToken: promconfig.Secret("tok")}}
	cfg, err := config.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := e.Scrape(context.Background())

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(reference{account: `acc "one"`, snap: s.states[0].Snapshot})
	wantFamilies, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	// encode is what expfmt writes for the reference families.
	encode := func(enc func(io.Writer, *dto.MetricFamily) (int, error)) string {
		var b bytes.Buffer
		for _, mf := range wantFamilies {
			if _, err := enc(&b, mf); err != nil {
				t.Fatal(err)
			}
		}
		return b.String()
	}
	metricFamilyToOpenMetrics := func(w io.Writer, mf *dto.MetricFamily) (int, error) {
		return expfmt.MetricFamilyToOpenMetrics(w, mf)
	}
	for _, tc := range []struct {
		format expfmt.Format
		write  func(io.Writer) error
		want   string
	}{
		{expfmt.FmtText, s.WriteProfiles, encode(expfmt.MetricFamilyToText)},
		{expfmt.FmtOpenMetrics_1_0_0, s.WriteProfilesOpenMetrics, encode(metricFamilyToOpenMetrics)},
	} {
		var got bytes.Buffer
		if err := tc.write(&got); err != nil {
			t.Fatal(err)
		}
		if g, w := sortedLines(got.String()), sortedLines(tc.want); !slices.Equal(g, w) {
			t.Errorf("%s: differs from expfmt's encoding:\n got:\n%s\nwant:\n%s", tc.format, strings.Join(g, "\n"), strings.Join(w, "\n"))
		}
		if !strings.Contains(got.String(), `status="unknown"`) {
			t.Errorf("%s: the null status is not written as unknown", tc.format)
		}
		// Sorted lines say nothing of the order: the format's own parser
		// must read back every family, each in one piece.
		if tc.format == expfmt.FmtOpenMetrics_1_0_0 {
			got.WriteString("# EOF\n") // written by the caller, after every family
		}
		dec := expfmt.NewDecoder(&got, tc.format)
		var families []string
		for {
			var mf dto.MetricFamily
			if err := dec.Decode(&mf); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: the output does not parse: %v", tc.format, err)
			}
			families = append(families, mf.GetName())
		}
		slices.Sort(families) // the text parser returns them in map order
		if want := familyNames(wantFamilies); !slices.Equal(families, want) {
			t.Errorf("%s: parsed families %q, want %q", tc.format, families, want)
		}
	}

	// For protobuf the families themselves must be the registry's, but
	// for the order of the series.
	got := s.ProfileFamilies()
	for _, mf := range got {
		sortMetrics(mf)
	}
	slices.SortFunc(got, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	if len(got) != len(wantFamilies) {
		t.Fatalf("ProfileFamilies: %q, want %q", familyNames(got), familyNames(wantFamilies))
	}
	for i := range got {
		// The family in full: name, HELP, type, every series' labels in
		// order and value.
		var g, w bytes.Buffer
		if _, err := expfmt.MetricFamilyToText(&g, got[i]); err != nil {
			t.Fatal(err)
		}
		if _, err := expfmt.MetricFamilyToText(&w, wantFamilies[i]); err != nil {
			t.Fatal(err)
		}
		if g.String() != w.String() {
			t.Errorf("ProfileFamilies: family %s differs:\n got:\n%s\nwant:\n%s", wantFamilies[i].GetName(), g.String(), w.String())
		}
	}
}

// Without per_profile_metrics nothing is written or built.
func TestProfilesOff(t *testing.T) {
	s := &Scrape{e: &Exporter{perProfile: false}}
	var b bytes.Buffer
	if err := s.WriteProfiles(&b); err != nil || b.Len() > 0 {
		t.Errorf("WriteProfiles wrote %q, %v", b.String(), err)
	}
	if err := s.WriteProfilesOpenMetrics(&b); err != nil || b.Len() > 0 {
		t.Errorf("WriteProfilesOpenMetrics wrote %q, %v", b.String(), err)
	}
	if mfs := s.ProfileFamilies(); mfs != nil {
		t.Errorf("ProfileFamilies: %v", mfs)
	}
}

func familyNames(mfs []*dto.MetricFamily) []string {
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	return names
}

// sortMetrics orders a family's series by their label values, as a
// registry does.
func sortMetrics(mf *dto.MetricFamily) {
	slices.SortStableFunc(mf.Metric, func(a, b *dto.Metric) int {
		for k := range min(len(a.Label), len(b.Label)) {
			if c := strings.Compare(a.Label[k].GetValue(), b.Label[k].GetValue()); c != 0 {
				return c
			}
		}
		return len(a.Label) - len(b.Label)
	})
}

// Every name the fast writers write is a legacy one, so that no escaping
// scheme a scraper asks for (escaping=underscores, dots, values) would
// change it: the writers do not escape names.
func TestProfileNamesAreLegacy(t *testing.T) {
	for _, f := range profileFamilies {
		if !model.LegacyValidation.IsValidMetricName(f.name) {
			t.Errorf("family %q is not a legacy metric name", f.name)
		}
	}
	k := sink{protobuf: true}
	p := snapshot.ProfileRecord{SID: "BU1", Status: "odd", ErrorCodes: []int64{1}, HasValidUntil: true, HasUpdated: true}
	for i := range profileFamilies {
		k.start(&profileFamilies[i])
		profileFamilies[i].series(&k, "a", &p)
	}
	for _, mf := range k.families {
		for _, m := range mf.Metric {
			for _, lp := range m.Label {
				if !model.LegacyValidation.IsValidLabelName(lp.GetName()) {
					t.Errorf("%s: label %q is not a legacy label name", mf.GetName(), lp.GetName())
				}
			}
		}
	}
	if len(k.families) != len(profileFamilies) {
		t.Errorf("a profile with every field gave %d families, want %d", len(k.families), len(profileFamilies))
	}
}

// A one-series family written by the fast writers, value and HELP
// included, is what expfmt writes, in both text formats.
func TestOneSeriesMatchesExpfmt(t *testing.T) {
	helps := []string{"plain.", `a "quoted" word, a \ backslash`, "a\nnewline"}
	values := []float64{1, 0, math.Copysign(0, -1), -1, 0.5, 1234, -1234, 1.7957808e+09, 1e21, 1e-7, 123456789,
		math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN()}
	for _, help := range helps {
		for _, v := range values {
			mf := &dto.MetricFamily{Name: ptr("x_y"), Help: ptr(help), Type: dto.MetricType_GAUGE.Enum(),
				Metric: []*dto.Metric{{Label: []*dto.LabelPair{{Name: ptr("a"), Value: ptr(`v"\`)}}, Gauge: &dto.Gauge{Value: ptr(v)}}}}
			for _, tc := range []struct {
				name  string
				om    bool
				value func([]byte, float64) []byte
				enc   func(io.Writer, *dto.MetricFamily) (int, error)
			}{
				{"text", false, appendValue, expfmt.MetricFamilyToText},
				{"OpenMetrics", true, appendOpenMetricsValue, func(w io.Writer, mf *dto.MetricFamily) (int, error) {
					return expfmt.MetricFamilyToOpenMetrics(w, mf)
				}},
			} {
				got := tc.value(appendSeries(appendHeader(nil, "x_y", help, tc.om), "x_y", "a", `v"\`), v)
				var want bytes.Buffer
				if _, err := tc.enc(&want, mf); err != nil {
					t.Fatal(err)
				}
				if string(got) != want.String() {
					t.Errorf("%s, help %q, value %v:\n got %q\nwant %q", tc.name, help, v, got, want.String())
				}
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }
