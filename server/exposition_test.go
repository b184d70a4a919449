package server

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// Accept headers of real scrapers. Prometheus 3's are what its
// acceptHeader builds (scrape/scrape.go, v3 as github.com/prometheus/prometheus
// v0.316.0) from its default scrape protocols and escaping scheme
// (allow-utf-8), or with native histograms from the protobuf-first ones.
const (
	prometheus3Accept      = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.7,application/openmetrics-text;version=0.0.1;q=0.6,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.3"
	prometheus3ProtoAccept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
	// Prometheus 3 with metric_name_escaping_scheme: underscores.
	prometheus3UnderscoresAccept = "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.7,application/openmetrics-text;version=0.0.1;q=0.6,text/plain;version=1.0.0;escaping=underscores;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.3"
	// The protobuf-first header as issue 9 quotes it, without escaping.
	protoFirstAccept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
	// Prometheus 2 (2.42, Debian's).
	prometheus2Accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
	// Prometheus 3 scraping OpenMetrics 2.0 only, which is not offered.
	openMetrics2Accept = "application/openmetrics-text;version=2.0.0;escaping=allow-utf-8;q=0.7,*/*;q=0.6"
	browserAccept      = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
)

// Every scraper gets one whole exposition in the format it asked for,
// under a Content-Type that names that format, and every format carries
// the same families with the same values, per-profile series included.
func TestNegotiation(t *testing.T) {
	h := negotiationHandler(t)
	scrapeBody(h, "") // lists; every answer below is from the same snapshot

	const (
		text         = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"
		openMetrics1 = "application/openmetrics-text; version=1.0.0; charset=utf-8"
		protobuf     = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
	)
	var reference string // the canonical form of the first answer
	for _, tc := range []struct {
		name, accept, contentType string
	}{
		{"no Accept", "", text},
		{"any", "*/*", text},
		{"a browser", browserAccept, text},
		{"nothing offered", "application/json", text},
		{"Prometheus 3", prometheus3Accept, openMetrics1 + "; escaping=allow-utf-8"},
		{"Prometheus 3, escaping underscores", prometheus3UnderscoresAccept, openMetrics1 + "; escaping=underscores"},
		{"Prometheus 3, native histograms", prometheus3ProtoAccept, protobuf + "; escaping=underscores"},
		{"protobuf first, as issue 9 quotes it", protoFirstAccept, protobuf + "; escaping=underscores"},
		{"Prometheus 3, OpenMetrics 2.0 only", openMetrics2Accept, text},
		{"Prometheus 2", prometheus2Accept, openMetrics1 + "; escaping=underscores"},
		{"OpenMetrics only", "application/openmetrics-text;version=1.0.0", openMetrics1 + "; escaping=underscores"},
		{"OpenMetrics without a version", "application/openmetrics-text", "application/openmetrics-text; version=0.0.1; charset=utf-8; escaping=underscores"},
		{"text 1.0.0", "text/plain;version=1.0.0;escaping=allow-utf-8", "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8"},
		{"protobuf only", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", protobuf + "; escaping=underscores"},
		{"protobuf, escaping dots", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=dots", protobuf + "; escaping=dots"},
	} {
		for _, gz := range []bool{false, true} {
			name := tc.name
			if gz {
				name += ", gzip"
			}
			t.Run(name, func(t *testing.T) {
				r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				if tc.accept != "" {
					r.Header.Set("Accept", tc.accept)
				}
				if gz {
					r.Header.Set("Accept-Encoding", "gzip")
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					t.Fatalf("status %d", w.Code)
				}
				if ct := w.Header().Get("Content-Type"); ct != tc.contentType {
					t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
				}
				if !slices.Contains(w.Header().Values("Vary"), "Accept") {
					t.Errorf("Vary %q lacks Accept", w.Header().Values("Vary"))
				}
				body := w.Body.Bytes()
				if got := w.Header().Get("Content-Encoding") == "gzip"; got != gz {
					t.Fatalf("gzipped %v, want %v", got, gz)
				}
				if gz {
					zr, err := gzip.NewReader(bytes.NewReader(body))
					if err != nil {
						t.Fatal(err)
					}
					if body, err = io.ReadAll(zr); err != nil {
						t.Fatal(err)
					}
				}
				// OpenMetrics ends with one "# EOF", which its parser
				// checks is last; no other format has one.
				wantEOF := 0
				if strings.HasPrefix(tc.contentType, expfmt.OpenMetricsType) {
					wantEOF = 1
				}
				if n := bytes.Count(body, []byte("# EOF")); n != wantEOF {
					t.Errorf("%d \"# EOF\" lines, want %d", n, wantEOF)
				}

				mfs := decode(t, body, w.Header())
				got := canonical(t, mfs)
				for _, want := range []string{
					`twilio_trusthub_up{account="main"} 1`,
					`twilio_trusthub_listing_errors_total{account="main",resource="customer_profiles"} 0`,
					`twilio_trusthub_customer_profile_info{account="main",`,
					`twilio_trusthub_customer_profile_status{account="main",`,
				} {
					if !strings.Contains(got, want) {
						t.Errorf("no %s in the answer", want)
					}
				}
				for _, want := range []string{
					// Escaped alike in every format, read back alike.
					`friendly_name="Quote \" backslash \\ newline\nend"`,
					`friendly_name="Ünïcode ☎ café"`,
					`status="unknown"} 1`,
					`code="22215",sid="BU02"} 1`,
					`twilio_trusthub_customer_profile_valid_until_timestamp_seconds{account="main",sid="BU01"} 1.7987616e+09`,
				} {
					if !strings.Contains(got, want) {
						t.Errorf("no %s in the answer", want)
					}
				}
				if n := strings.Count(got, "twilio_trusthub_customer_profile_info{"); n != 4 {
					t.Errorf("%d profile info series, want 4", n)
				}
				if reference == "" {
					reference = got
				} else if got != reference {
					t.Errorf("the families differ from those of the first answer:\n got:\n%s\nwant:\n%s", got, reference)
				}
			})
		}
	}
}

// negotiationHandler serves a few profiles with everything a format could
// write differently: names to escape, a null status, error codes, dates.
// Few, as the OpenMetrics parser takes milliseconds a line.
func negotiationHandler(t *testing.T) http.Handler {
	t.Helper()
	at := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	p := simulator.Ptr[string]
	sim := simulator.New()
	sim.AddAccount(mainSID, "tok", []simulator.ServedObject{
		{SID: p("BU01"), Status: p("twilio-approved"), FriendlyName: p("Quote \" backslash \\ newline\nend"), PolicySID: p("RN1"), ValidUntil: &at, DateUpdated: &at},
		{SID: p("BU02"), Status: p("twilio-rejected"), FriendlyName: p("Ünïcode ☎ café"), Errors: []simulator.ErrorCode{{Code: 22215}, {Code: 22216}}},
		{SID: p("BU03"), Status: p("twilio-suspended")},
		{SID: p("BU04")},
	})
	return handlerOf(t, testSetup{api: sim, spec: func(spec *config.Config) { spec.CacheTTL = time.Hour }})
}

// decode reads an exposition with the parser its Content-Type names and
// fails on a family that comes twice. OpenMetrics is read by
// decodeOpenMetrics.
func decode(t *testing.T, body []byte, header http.Header) []*dto.MetricFamily {
	t.Helper()
	format := expfmt.ResponseFormat(header)
	if format == expfmt.FmtUnknown {
		t.Fatalf("no parser for Content-Type %q", header.Get("Content-Type"))
	}
	if format.FormatType() == expfmt.TypeOpenMetrics {
		return decodeOpenMetrics(t, body)
	}
	dec := expfmt.NewDecoder(bytes.NewReader(body), format)
	var mfs []*dto.MetricFamily
	seen := map[string]bool{}
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("the %s answer does not parse: %v", format, err)
		}
		if seen[mf.GetName()] {
			t.Errorf("family %s comes twice", mf.GetName())
		}
		seen[mf.GetName()] = true
		mfs = append(mfs, mf)
	}
	return mfs
}

// canonical writes families in the text format, in name order and each's
// series in order, so that answers in different formats compare equal.
// The handler's own request counter changes from one scrape to the next:
// its family is kept, its values are not.
func canonical(t *testing.T, mfs []*dto.MetricFamily) string {
	t.Helper()
	slices.SortFunc(mfs, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	var b strings.Builder
	for _, mf := range mfs {
		if mf.GetName() == "promhttp_metric_handler_requests_total" {
			mf.Metric = mf.Metric[:1]
			mf.Metric[0].Counter.Value = new(float64)
		}
		var one bytes.Buffer
		if _, err := expfmt.MetricFamilyToText(&one, mf); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(one.String(), "\n"), "\n")
		// HELP and TYPE first, then the series sorted.
		slices.Sort(lines[2:])
		b.WriteString(strings.Join(lines, "\n") + "\n")
	}
	return b.String()
}

// decodeOpenMetrics reads an OpenMetrics exposition and holds it to
// expfmt byte for byte: the families it holds, encoded again by expfmt's
// own OpenMetrics encoder in the order they came, must give back the very
// same bytes, "# EOF" included. expfmt's OpenMetrics parser checks the
// grammar line by line and took most of these tests' time (seconds per
// answer); the text format's parser reads the same lines, once the
// OpenMetrics HELP escaping and counter family names are undone, in
// microseconds, and the comparison then catches any byte expfmt would
// not write. A family that comes twice fails the text parser.
func decodeOpenMetrics(t *testing.T, body []byte) []*dto.MetricFamily {
	t.Helper()
	text, ok := bytes.CutSuffix(body, []byte("# EOF\n"))
	if !ok || bytes.Contains(text, []byte("# EOF")) {
		t.Fatalf("the OpenMetrics answer does not end with its one # EOF line")
	}
	var b strings.Builder
	var order []string
	counters := map[string]bool{}
	lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	for _, line := range lines {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			if name, typ, _ := strings.Cut(rest, " "); typ == "counter" {
				counters[name] = true
			}
		}
	}
	for _, line := range lines {
		switch {
		case strings.HasPrefix(line, "# HELP "):
			name, help, _ := strings.Cut(strings.TrimPrefix(line, "# HELP "), " ")
			if counters[name] {
				name += "_total"
			}
			order = append(order, name)
			b.WriteString("# HELP " + name + " " + textHelp(t, help) + "\n")
		case strings.HasPrefix(line, "# TYPE "):
			name, typ, _ := strings.Cut(strings.TrimPrefix(line, "# TYPE "), " ")
			if counters[name] {
				name += "_total"
			}
			b.WriteString("# TYPE " + name + " " + typ + "\n")
		default:
			b.WriteString(line + "\n")
		}
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	byName, err := parser.TextToMetricFamilies(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("the OpenMetrics answer does not parse: %v", err)
	}
	var mfs []*dto.MetricFamily
	var again bytes.Buffer
	for _, name := range order {
		mf := byName[name]
		if mf == nil {
			t.Fatalf("family %s has a HELP line but no series", name)
		}
		if _, err := expfmt.MetricFamilyToOpenMetrics(&again, mf); err != nil {
			t.Fatal(err)
		}
		mfs = append(mfs, mf)
	}
	again.WriteString("# EOF\n")
	if !bytes.Equal(again.Bytes(), body) {
		t.Fatalf("the OpenMetrics answer is not what expfmt writes for its families:\n got %.2000q\nwant %.2000q", body, again.String())
	}
	return mfs
}

// textHelp turns an OpenMetrics HELP text into the text format's, which
// does not escape a double quote.
func textHelp(t *testing.T, help string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(help); i++ {
		c := help[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i++; i == len(help) {
			t.Fatalf("HELP %q ends in a lone backslash", help)
		}
		switch help[i] {
		case '\\':
			b.WriteString(`\\`)
		case 'n':
			b.WriteString(`\n`)
		case '"':
			b.WriteByte('"')
		default:
			t.Fatalf("HELP %q has the escape \\%c", help, help[i])
		}
	}
	return b.String()
}
