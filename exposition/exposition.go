// Package exposition writes what a scrape reports, in the format the
// scraper negotiated: the format's choice from the Accept header, gzip,
// and the writers of each format.
//
// Most of an answer is the exporter's own series: several per object and
// about fifty per account, hundreds of thousands for a large estate. Built
// as client_golang const metrics and gathered, they cost a scrape over half
// a second and tens of MB of garbage at 10,000 profiles, and 80 MB live at
// 1,000 subaccounts. So the collector does not build metrics: it yields
// each family (a Family, declared once) and each series' labels and value
// to an Encoder, which in the two text formats appends them as bytes,
// nothing allocated per series, and in protobuf builds the messages from
// slabs for expfmt's encoder. Tests hold every byte of it to what expfmt
// writes for the same families. The process-wide families (Go, process,
// build info) are few and are gathered by client_golang as usual, then
// encoded by expfmt through the same Encoder.
package exposition

import (
	"net/http"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Offered are the formats served, in the order preferred when the scraper
// leaves the choice to us (Accept: */*, or none): the Prometheus text
// format first, which every scraper and a person with curl can read. A
// scraper's own order wins over this one: Prometheus 2 and 3 get
// OpenMetrics 1.0.0 by default, and protobuf when they ask for it first
// (Prometheus 3 with native histograms). OpenMetrics 2.0 is not offered:
// it is still experimental.
var Offered = []expfmt.Format{
	expfmt.FmtText,
	expfmt.FmtText_1_0_0,
	expfmt.FmtOpenMetrics_1_0_0,
	expfmt.FmtOpenMetrics_0_0_1,
	expfmt.FmtProtoDelim,
}

// Negotiate returns the format to answer a request with header h in,
// negotiated by expfmt as client_golang's own handler does, with the
// escaping scheme the scraper asked for. Every name written here is a
// legacy one, so no scheme changes a name; the Content-Type still names
// the scheme, as client_golang's handler does.
func Negotiate(h http.Header) expfmt.Format {
	return expfmt.NegotiateAccept(h, Offered...)
}

// Type is a family's metric type.
type Type uint8

// The types the exporter writes.
const (
	Gauge Type = iota
	Counter
)

// Family is one metric family, declared once and written by every scrape
// that has a series of it.
type Family struct {
	name, help string
	typ        Type
	// The HELP and TYPE lines in each text format, built once: they
	// differ in escaping, and OpenMetrics names a counter family without
	// its _total.
	textHeader, openMetricsHeader []byte
}

// NewFamily declares a family. Its name must be a legacy metric name,
// which no escaping scheme changes, and a counter's must end in _total:
// the writers rely on both, and a family breaking either is a bug.
func NewFamily(name, help string, t Type) *Family {
	if !model.LegacyValidation.IsValidMetricName(name) {
		panic("exposition: " + name + " is not a legacy metric name")
	}
	if t == Counter && !strings.HasSuffix(name, "_total") {
		panic("exposition: counter " + name + " does not end in _total")
	}
	return &Family{name: name, help: help, typ: t,
		textHeader: appendHeader(nil, name, help, t, false), openMetricsHeader: appendHeader(nil, name, help, t, true)}
}

// Name is the family's name, as its series carry it.
func (f *Family) Name() string { return f.name }

// Help is the family's HELP text.
func (f *Family) Help() string { return f.help }

// Respond answers r with one exposition in the negotiated format, gzipped
// when the scraper accepts it: whatever write gives the Encoder, then
// what ends the format (OpenMetrics' one "# EOF"). The error is the
// writer's: the client gone, most often.
func Respond(w http.ResponseWriter, r *http.Request, write func(*Encoder)) error {
	format := Negotiate(r.Header)
	w.Header().Set("Content-Type", string(format))
	w.Header().Add("Vary", "Accept")
	var gz *gzipWriter
	if gzipAccepted(r) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		gz = newGzipWriter(w)
	}
	var enc *Encoder
	if gz != nil {
		enc = NewEncoder(gz, format)
	} else {
		enc = NewEncoder(w, format)
	}
	write(enc)
	err := enc.Close()
	if gz != nil {
		if cerr := gz.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// gzipAccepted reads Accept-Encoding: gzip, unless with q=0.
func gzipAccepted(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) != "gzip" {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
