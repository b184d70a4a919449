package twilio

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

// benchPage builds a page of n results from one result's JSON, with the
// sid made unique.
func benchPage(n int, result string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"meta": {"next_page_url": null, "page_size": 1000}, "results": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sid": "BU%032x", `+result[1:], i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// Decoding a page of 1,000 profiles, each well-formed and rejected with
// two codes, or each with an odd value in every field: what tolerance costs
// in the common case and in the worst one.
func BenchmarkDecodePage(b *testing.B) {
	for _, bc := range []struct{ name, result string }{
		{"clean", `{"account_sid": "AC0123456789abcdef0123456789abcdef", "policy_sid": "RN0123456789abcdef0123456789abcdef",
			"friendly_name": "Acme Dental 0042", "status": "twilio-rejected", "email": "compliance@example.com",
			"valid_until": null, "date_created": "2025-01-27T14:18:35Z", "date_updated": "2025-02-01T09:00:00Z",
			"errors": [{"code": 18601, "message": "Business name mismatch"}, {"code": 18602}]}`},
		{"odd", `{"policy_sid": 5, "friendly_name": ["x"], "status": {}, "valid_until": "soon", "date_updated": 1,
			"errors": [18601, "18602", {"error_code": 30701}, null, "x", 1.5]}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			page := benchPage(1000, bc.result)
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				if _, err := DecodePage(bytes.NewReader(page), kinds.CustomerProfiles, func(*kinds.Object) error { n++; return nil }); err != nil || n != 1000 {
					b.Fatalf("%d profiles, %v", n, err)
				}
			}
		})
	}
}
