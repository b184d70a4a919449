package twilio_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/twilio"
)

// Listing 20,000 profiles from the simulator, 20 pages, with no delay and
// with 20 ms per answer: what asking for the next page early saves.
func BenchmarkList(b *testing.B) {
	for _, delay := range []time.Duration{0, 20 * time.Millisecond} {
		b.Run(delay.String(), func(b *testing.B) {
			sim := simulator.New()
			sim.AddAccount(accountSID, token, simulator.Generate(accountSID, 20000, time.Now(), 1))
			sim.SetFault(simulator.Fault{Delay: delay})
			srv := httptest.NewServer(sim)
			defer srv.Close()
			c, err := twilio.New(twilio.Options{BaseURL: srv.URL, Auth: &promconfig.BasicAuth{Username: accountSID, Password: token}, PageSize: 1000})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				if _, err := c.List(context.Background(), kinds.CustomerProfiles, kinds.Filters{}, func(*kinds.Object) error { n++; return nil }); err != nil || n != 20000 {
					b.Fatalf("%d profiles, %v", n, err)
				}
			}
		})
	}
}
