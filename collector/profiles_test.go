package collector

import (
	"bytes"
	"context"
	"math"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/expfmt"

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
	profiles := []simulator.Profile{
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
	cfg := config.Default()
	cfg.APIURL = srv.URL
	cfg.Accounts = []config.Account{{Name: `acc "one"`, AccountSID: sidMain, AuthToken: promconfig.Secret("tok")}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := e.Scrape(context.Background())
	var got bytes.Buffer
	if err := s.WriteProfiles(&got); err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(reference{account: `acc "one"`, snap: s.states[0].Snapshot})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&want, mf); err != nil {
			t.Fatal(err)
		}
	}
	if g, w := sortedLines(got.String()), sortedLines(want.String()); !slices.Equal(g, w) {
		t.Errorf("WriteProfiles differs from client_golang's encoding:\n got:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
	if !strings.Contains(got.String(), `status="unknown"`) {
		t.Error("the null status is not written as unknown")
	}
}

func TestAppendValue(t *testing.T) {
	for v, want := range map[float64]string{
		1: " 1\n", 0: " 0\n", -1: " -1\n", 1.7957808e+09: " 1.7957808e+09\n", 0.5: " 0.5\n",
		math.Inf(1): " +Inf\n", math.Inf(-1): " -Inf\n", math.NaN(): " NaN\n",
	} {
		if got := string(appendValue(nil, v)); got != want {
			t.Errorf("appendValue(%v) = %q, want %q", v, got, want)
		}
	}
}
