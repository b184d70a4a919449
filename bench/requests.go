package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/exporter"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// runRequests counts the requests of one full listing cycle of a parent
// and n discovered subaccounts, the simulator's ISV estate (one in ten
// subaccounts with profiles, Trust Products, brands, campaigns under
// Messaging Services and toll-free verifications; the others with three
// approved profiles), by what they ask for.
func runRequests(n int) error {
	const parent = "AC5ba0000000000000000000000000000f"
	sim := simulator.New()
	now := time.Now()
	sim.AddAccount(parent, token, nil)
	sim.AddSubaccountEstate(parent, n, 10, now)
	srv := httptest.NewServer(sim)
	defer srv.Close()
	spec := config.Default()
	spec.APIURL, spec.MessagingAPIURL, spec.AccountsAPIURL = srv.URL, srv.URL, srv.URL
	spec.CacheTTL, spec.Timeout = time.Hour, 10*time.Minute
	spec.Accounts = []config.Account{{Name: "isv", AccountSID: parent, AuthToken: promconfig.Secret(token),
		Subaccounts: &config.Subaccounts{Discover: true, Refresh: time.Hour}}}
	cfg, err := config.New(spec)
	if err != nil {
		return err
	}
	e, err := exporter.New(cfg, exporter.Options{})
	if err != nil {
		return err
	}
	defer e.Close()
	deadline := time.Now().Add(5 * time.Minute)
	for len(e.Accounts()) < n+1 {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d accounts discovered after 5 minutes", len(e.Accounts()), n+1)
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	e.Scrape(context.Background())
	took := time.Since(start)
	paths := sim.Paths()
	classes := map[string]int64{}
	for path, count := range paths {
		classes[classify(path)] += count
	}
	var names []string
	for c := range classes {
		names = append(names, c)
	}
	sort.Strings(names)
	fmt.Printf("one listing cycle of a parent and %d subaccounts (one in ten with every kind): %d requests, %.1f per account, listed in %s\n",
		n, sim.Requests(), float64(sim.Requests())/float64(n+1), took.Round(time.Millisecond))
	for _, c := range names {
		fmt.Printf("  %-44s %7d\n", c, classes[c])
	}
	return nil
}

// classify names a request path by what it asks for, a SID in it
// replaced by {sid}.
func classify(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if len(p) == 34 && strings.ToUpper(p[:2]) == p[:2] {
			parts[i] = "{sid}"
		}
	}
	return strings.Join(parts, "/")
}
