package server

import (
	"io"
	"net/http"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/collector"
)

// The metrics endpoint answers in the exposition format the scraper asks
// for in its Accept header, negotiated by expfmt as client_golang's own
// handler does. The per-profile series, most of every answer, bypass
// client_golang in the two text formats (collector.WriteProfiles); in
// protobuf they go through expfmt's encoder like everything else.

// offered are the formats served, in the order preferred when the scraper
// leaves the choice to us (Accept: */*, or none): the Prometheus text
// format first, which every scraper and a person with curl can read. A
// scraper's own order wins over this one: Prometheus 2 and 3 get
// OpenMetrics 1.0.0 by default, and protobuf when they ask for it first
// (Prometheus 3 with native histograms). OpenMetrics 2.0 is not offered:
// it is still experimental.
var offered = []expfmt.Format{
	expfmt.FmtText,
	expfmt.FmtText_1_0_0,
	expfmt.FmtOpenMetrics_1_0_0,
	expfmt.FmtOpenMetrics_0_0_1,
	expfmt.FmtProtoDelim,
}

// negotiate returns the format to answer r in, with the escaping scheme
// the scraper asked for. Every name exported here is a legacy one, so no
// scheme changes a name; the Content-Type still names the scheme, as
// client_golang's handler does.
func negotiate(r *http.Request) expfmt.Format {
	return expfmt.NegotiateAccept(r.Header, offered...)
}

// writeExposition writes one whole exposition in format: the gathered
// families, then the scrape's per-profile series, then whatever ends the
// format (OpenMetrics' single "# EOF", after the per-profile series too).
func writeExposition(w io.Writer, format expfmt.Format, mfs []*dto.MetricFamily, scrape *collector.Scrape) error {
	enc := expfmt.NewEncoder(w, format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	if err := writeProfiles(w, enc, format, scrape); err != nil {
		return err
	}
	if c, ok := enc.(expfmt.Closer); ok {
		return c.Close()
	}
	return nil
}

// writeProfiles writes the per-profile series straight into w in the text
// formats the collector writes, and through enc otherwise.
func writeProfiles(w io.Writer, enc expfmt.Encoder, format expfmt.Format, scrape *collector.Scrape) error {
	switch format.FormatType() {
	case expfmt.TypeTextPlain:
		// 0.0.4 and 1.0.0 differ only in quoting names that are not
		// legacy ones, and there are none here.
		return scrape.WriteProfiles(w)
	case expfmt.TypeOpenMetrics:
		if v := format.Version(); v == expfmt.OpenMetricsVersion_1_0_0 || v == expfmt.OpenMetricsVersion_0_0_1 {
			return scrape.WriteProfilesOpenMetrics(w)
		}
	}
	for _, mf := range scrape.ProfileFamilies() {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}
