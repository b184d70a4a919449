package collector

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/cache"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/exposition"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/failure"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

// aggregateReference builds a scrape's aggregates the plain client_golang
// way, as const metrics from the scrape's states: what the writers must
// match. Its names, label names and types are written out here, not
// taken from the collector's declarations, so that a wrong declaration
// fails the test.
type aggregateReference struct{ s *Scrape }

func (aggregateReference) Describe(chan<- *prometheus.Desc) {}

func (r aggregateReference) Collect(ch chan<- prometheus.Metric) {
	s := r.s
	help := func(name string) string {
		mfs := exposition.Gather(s.Write)
		for _, mf := range mfs {
			if mf.GetName() == name {
				return mf.GetHelp()
			}
		}
		return "no such family"
	}
	metric := func(name string, t prometheus.ValueType, v float64, labels ...string) {
		var names, values []string
		for i := 0; i < len(labels); i += 2 {
			names, values = append(names, labels[i]), append(values, labels[i+1])
		}
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(name, help(name), names, nil), t, v, values...)
	}
	const ns = "twilio_trusthub_"
	for _, a := range s.v.accounts {
		up := 1.0
		for _, i := range a.listings {
			l, st := s.v.listings[i], s.states[i]
			if !st.Up {
				up = 0
			}
			acc, res := []string{"account", l.Account}, []string{"resource", l.Kind.Name}
			metric(ns+"resource_up", prometheus.GaugeValue, boolFloat(st.Up), slices.Concat(acc, res)...)
			if st.Completed {
				metric(ns+"listing_duration_seconds", prometheus.GaugeValue, st.Duration.Seconds(), slices.Concat(acc, res)...)
			}
			if !st.LastSuccess.IsZero() {
				metric(ns+"last_success_timestamp_seconds", prometheus.GaugeValue, float64(st.LastSuccess.UnixNano())/1e9, slices.Concat(acc, res)...)
			}
			for code, n := range l.Requests {
				metric(ns+"api_requests_total", prometheus.CounterValue, float64(n), slices.Concat(acc, []string{"code", strconv.Itoa(code)}, res)...)
			}
			failed := 0.0
			for _, reason := range failure.Reasons {
				failed += float64(st.Errors[reason])
			}
			metric(ns+"listing_errors_total", prometheus.CounterValue, failed, slices.Concat(acc, res)...)
			if l.UsageErrors != nil {
				metric(ns+"usage_listing_errors_total", prometheus.CounterValue, float64(l.UsageErrors()), slices.Concat(acc, res)...)
			}
			snap := st.Snapshot
			if snap == nil {
				continue
			}
			k := l.Kind
			for status, n := range snap.Statuses {
				metric(k.Metric(k.Plural), prometheus.GaugeValue, float64(n), slices.Concat(acc, []string{"status", status})...)
			}
			if k.Expires() {
				for _, d := range s.e.expiringDays {
					metric(k.Metric(k.Plural+"_expiring"), prometheus.GaugeValue, float64(snap.ExpiringWithin(s.now, time.Duration(d)*24*time.Hour)),
						slices.Concat(acc, []string{"within_days", strconv.Itoa(d)})...)
				}
				metric(k.Metric(k.Plural+"_expired"), prometheus.GaugeValue, float64(snap.Expired(s.now)), acc...)
			}
			for code, n := range snap.ErrorCodes {
				metric(k.Metric(k.Singular+"_errors"), prometheus.GaugeValue, float64(n), slices.Concat(acc, []string{"code", strconv.FormatInt(code, 10)})...)
			}
		}
		metric(ns+"up", prometheus.GaugeValue, up, "account", a.name)
		metric(ns+"account_info", prometheus.GaugeValue, 1, "account", a.name, "friendly_name", a.info.FriendlyName, "parent", a.info.Parent, "status", a.info.Status)
	}
	for _, d := range s.discovery {
		metric(ns+"discovery_up", prometheus.GaugeValue, boolFloat(d.Up), "account", d.Account)
		metric(ns+"discovered_subaccounts", prometheus.GaugeValue, float64(d.Discovered), "account", d.Account)
		for _, reason := range failure.Reasons {
			metric(ns+"discovery_errors_total", prometheus.CounterValue, float64(d.Errors[reason]), "account", d.Account, "reason", reason)
		}
	}
}

// aggregateScrape is a scrape of two accounts, one discovered under the
// other, with every kind of aggregate: failed and successful listings,
// requests by code, anomalies, failed usage counts, label values to
// escape, expiring and expired objects, error codes.
func aggregateScrape(t *testing.T) *Scrape {
	t.Helper()
	p := simulator.Ptr[string]
	now := time.Now()
	soon, past := now.Add(3*24*time.Hour), now.Add(-time.Hour)
	profiles := snapshotOf(t, kinds.CustomerProfiles, []simulator.ServedObject{
		{SID: p("BU01"), Status: p("twilio-approved"), ValidUntil: &soon},
		{SID: p("BU02"), Status: p("twilio-rejected"), ValidUntil: &past, Errors: []simulator.ErrorCode{{Code: 22215}, {Code: 22216}}},
		{SID: p("BU03"), Status: p("odd status")},
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var listings []Listing
	for _, account := range []string{`main "quoted"`, "AC01"} {
		for _, k := range []*kinds.Kind{kinds.CustomerProfiles, kinds.BrandRegistrations} {
			list := func(context.Context) (*snapshot.Snapshot, error) {
				if k == kinds.BrandRegistrations && account == "AC01" {
					return nil, errors.New("refused")
				}
				if k == kinds.BrandRegistrations {
					return (&snapshot.Snapshot{Kind: k, Statuses: map[string]int{}}), nil
				}
				return profiles, nil
			}
			l := Listing{
				Account: account, Kind: k,
				Entry: cache.NewEntry(ctx, account, list, cache.Options{TTL: time.Hour, Timeout: time.Minute,
					Reason: func(error) string { return failure.Auth }}),
				Requests: func(yield func(int, uint64) bool) { _ = yield(200, 3) && yield(429, 1) },
			}
			if k.Uses != nil {
				l.UsageErrors = func() uint64 { return 4 }
			}
			listings = append(listings, l)
		}
	}
	e := New(nil, Options{PerObject: true, ExpiringDays: []int{7, 30}, Discovery: func() []DiscoveryState {
		return []DiscoveryState{{Account: `main "quoted"`, Up: false, Discovered: 1, Errors: map[string]uint64{failure.Network: 2}}}
	}})
	e.SetAccounts(listings, map[string]AccountInfo{"AC01": {FriendlyName: "Ünïcode\nname", Parent: `main "quoted"`, Status: "active"}})
	return e.Scrape(context.Background())
}

// The aggregates written by the exposition writers are, in every format,
// what client_golang writes for the same series as const metrics: line
// for line in the text formats, message for message in protobuf.
func TestAggregatesMatchClientGolang(t *testing.T) {
	s := aggregateScrape(t)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(aggregateReference{s})
	want, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	// Every family the reference has, and a few checks that it has what
	// the fixture is for.
	text := familiesText(t, want, expfmt.MetricFamilyToText)
	for _, line := range []string{
		`twilio_trusthub_listing_errors_total{account="AC01",resource="brand_registrations"} 1`,
		`twilio_trusthub_listing_errors_total{account="AC01",resource="customer_profiles"} 0`,
		`twilio_trusthub_account_info{account="AC01",friendly_name="Ünïcode\nname",parent="main \"quoted\"",status="active"} 1`,
		`twilio_trusthub_customer_profiles_expiring{account="AC01",within_days="7"} 1`,
		`twilio_trusthub_customer_profile_errors{account="main \"quoted\"",code="22216"} 1`,
		`twilio_trusthub_api_requests_total{account="AC01",code="429",resource="customer_profiles"} 1`,
		`twilio_trusthub_discovery_errors_total{account="main \"quoted\"",reason="network"} 2`,
		`twilio_trusthub_usage_listing_errors_total{account="AC01",resource="customer_profiles"} 4`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("the reference lacks %s", line)
		}
	}
	aggregates := func(e *exposition.Encoder) { s.writeAggregates(e) }
	for _, tc := range []struct {
		format expfmt.Format
		want   string
	}{
		{expfmt.FmtText, text},
		{expfmt.FmtOpenMetrics_1_0_0, familiesText(t, want, func(w io.Writer, mf *dto.MetricFamily) (int, error) {
			return expfmt.MetricFamilyToOpenMetrics(w, mf)
		}) + "# EOF\n"},
	} {
		var b bytes.Buffer
		e := exposition.NewEncoder(&b, tc.format)
		aggregates(e)
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if g, w := sortedLines(b.String()), sortedLines(tc.want); !slices.Equal(g, w) {
			t.Errorf("%s: differs from expfmt's encoding:\n got:\n%s\nwant:\n%s", tc.format, strings.Join(g, "\n"), strings.Join(w, "\n"))
		}
		if got := parsedFamilies(t, b.String(), tc.format); !slices.Equal(got, familyNames(want)) {
			t.Errorf("%s: parsed families %q, want %q", tc.format, got, familyNames(want))
		}
	}
	got := exposition.Gather(aggregates)
	if len(got) != len(want) {
		t.Fatalf("protobuf: %q, want %q", familyNames(got), familyNames(want))
	}
	for i := range got {
		if g, w := familyText(t, got[i]), familyText(t, want[i]); g != w {
			t.Errorf("protobuf: family %s differs:\n got:\n%s\nwant:\n%s", want[i].GetName(), g, w)
		}
	}
}

func familiesText(t *testing.T, mfs []*dto.MetricFamily, enc func(io.Writer, *dto.MetricFamily) (int, error)) string {
	t.Helper()
	var b bytes.Buffer
	for _, mf := range mfs {
		if _, err := enc(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// The process's counters have every resource's reasons and fields from
// the start, and count what the listings of every account report.
func TestTotals(t *testing.T) {
	totals := NewTotals()
	count := func(name string) (series int, sum float64) {
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(totals)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				for _, m := range mf.Metric {
					series++
					sum += m.GetCounter().GetValue()
				}
			}
		}
		return series, sum
	}
	fields := 0
	for _, k := range kinds.All {
		fields += len(k.Fields())
	}
	if n, sum := count("twilio_trusthub_exporter_listing_errors_total"); n != len(kinds.All)*len(failure.Reasons) || sum != 0 {
		t.Errorf("listing errors: %d series summing to %v, want %d at 0", n, sum, len(kinds.All)*len(failure.Reasons))
	}
	if n, sum := count("twilio_trusthub_exporter_decode_anomalies_total"); n != fields || sum != 0 {
		t.Errorf("anomalies: %d series summing to %v, want %d at 0", n, sum, fields)
	}
	totals.ListingFailed(kinds.A2PCampaigns, failure.Auth)
	totals.ListingFailed(kinds.A2PCampaigns, "no such reason")
	var a snapshot.Anomalies
	a.ByField[kinds.FieldErrors], a.ByField[kinds.FieldStatus], a.Total = 2, 1, 3
	totals.Anomalies("one", kinds.CustomerProfiles, nil).Seen(a)
	totals.Anomalies("two", kinds.CustomerProfiles, nil).Seen(a)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(totals)
	for _, want := range []struct {
		name   string
		labels []string
		v      float64
	}{
		{"twilio_trusthub_exporter_listing_errors_total", []string{"a2p_campaigns", "auth"}, 1},
		{"twilio_trusthub_exporter_listing_errors_total", []string{"a2p_campaigns", "other"}, 1},
		{"twilio_trusthub_exporter_listing_errors_total", []string{"customer_profiles", "auth"}, 0},
		{"twilio_trusthub_exporter_decode_anomalies_total", []string{"customer_profiles", "errors"}, 4},
		{"twilio_trusthub_exporter_decode_anomalies_total", []string{"customer_profiles", "status"}, 2},
		{"twilio_trusthub_exporter_decode_anomalies_total", []string{"trust_products", "status"}, 0},
	} {
		got := -1.0
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, m := range mf.Metric {
				// Labels in name order: field or reason, then resource.
				if mf.GetName() == want.name && m.Label[1].GetValue() == want.labels[0] && m.Label[0].GetValue() == want.labels[1] {
					got = m.GetCounter().GetValue()
				}
			}
		}
		if got != want.v {
			t.Errorf("%s%v = %v, want %v", want.name, want.labels, got, want.v)
		}
	}
}
