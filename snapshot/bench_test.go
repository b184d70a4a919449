package snapshot_test

import (
	"bytes"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
)

// pageOf returns the simulator's answer for one page of n profiles.
func pageOf(b *testing.B, n int) []byte {
	b.Helper()
	const sid = "AC0123456789abcdef0123456789abcdef"
	sim := simulator.New()
	sim.AddAccount(sid, "tok", simulator.Generate(sid, n, time.Now(), 1))
	r := httptest.NewRequest("GET", "/v1/CustomerProfiles?PageSize=1000", nil)
	r.SetBasicAuth(sid, "tok")
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, r)
	if w.Code != 200 {
		b.Fatalf("HTTP %d", w.Code)
	}
	return w.Body.Bytes()
}

// Decoding one page of 1,000 profiles and adding them to a snapshot: the
// per-page CPU cost of a listing.
func BenchmarkDecodeAndAggregatePage(b *testing.B) {
	for _, keep := range []bool{false, true} {
		name := "per_object=off"
		if keep {
			name = "per_object=on"
		}
		b.Run(name, func(b *testing.B) {
			page := pageOf(b, 1000)
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				builder := snapshot.NewBuilder(kinds.CustomerProfiles, keep)
				if _, err := twilio.DecodePage(bytes.NewReader(page), kinds.CustomerProfiles, builder.Add); err != nil {
					b.Fatal(err)
				}
				if s := builder.Done(); s.Total != 1000 {
					b.Fatalf("%d profiles", s.Total)
				}
			}
		})
	}
}
