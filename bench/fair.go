package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// runFair measures how the listings of accounts share
// max_concurrent_listings (10, the default): accounts of profiles
// Customer-Profiles each, with Trust Products, brands, campaigns and
// toll-free verifications too, listed by one scrape with latency per
// request. It prints each cycle against its ideal, measured in the same
// run: n times one account's listings (the sum of their durations: each
// holds a slot while it runs) spread over the bound, and never less than
// one account's own cycle. Requests × latency ÷ the bound is no floor
// here: a listing's usage counts and its campaigns under each Messaging
// Service run within its slot, several at once. And, per
// account, when its first and its last listing finished (the profiles
// approved, so that nearly every request is a listing's): a fair schedule
// finishes every account's first listing early, not the last account's
// after every other's.
func runFair(bin string, accounts, profiles int, latency time.Duration, runs int) error {
	dir, bin, err := workdir("trusthub-bench-fair", bin)
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	sim := simulator.New()
	now := time.Now()
	for i := range accounts {
		seed := uint64(i + 1)
		// Approved and far from expiry: a profile with a problem costs a
		// request more (what uses it), which would measure the usage
		// counts rather than how the listings share their bound.
		ps := simulator.Generate(sid(i), profiles, now, seed)
		for j := range ps {
			ps[j].Status, ps[j].ValidUntil, ps[j].Errors = simulator.Ptr("twilio-approved"), simulator.Ptr(now.Add(300*24*time.Hour)), nil
		}
		sim.AddAccount(sid(i), token, ps)
		trustProducts := simulator.GenerateTrustProducts(sid(i), 100, now, seed)
		sim.SetObjects(sid(i), kinds.TrustProducts, trustProducts)
		sim.SetMessaging(sid(i), simulator.GenerateMessaging(50, now, seed, trustProducts))
	}
	sim.SetFault(simulator.Fault{Delay: latency})
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	const bound = 10 // max_concurrent_listings' default, which startExporter keeps

	fmt.Printf("accounts × %d Customer-Profiles (approved), 100 Trust Products, 50 brands and their campaigns, toll-free verifications; %s per request; max_concurrent_listings %d; per_object_metrics off; %d runs each\n\n",
		profiles, latency, bound, runs)
	fmt.Println("| accounts | cycle | requests | took | ideal | ratio | first listing done, per account: earliest / latest | every listing done, per account: earliest / latest |")
	fmt.Println("|---:|---|---:|---:|---:|---:|---:|---:|")
	// The ideal of n accounts: n times one account's listings (the sum of
	// their durations, each listing holding a slot) spread over the bound,
	// and never less than one account's own cycle; cold and warm apart (a
	// warm cycle makes fewer requests: usage counts are kept).
	oneCycle, oneSlots := map[string][]float64{}, map[string][]float64{} // by cycle
	for _, n := range []int{1, accounts} {
		for run := range runs {
			addr, cmd, err := startExporter(bin, dir, "http://"+ln.Addr().String(), n, false, "0s")
			if err != nil {
				return err
			}
			// cold: the first cycle, no listing's duration known yet;
			// warm: the next one (cache_ttl 0s), longest listings first.
			for _, cycle := range []string{"cold", "warm"} {
				before := sim.Requests()
				start := time.Now()
				body, _, err := scrape(addr, false, true)
				took := time.Since(start).Seconds()
				if err != nil {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
					return err
				}
				requests := sim.Requests() - before
				first, last, err := listingTimes(body, start)
				if err == nil && len(first) != n {
					err = fmt.Errorf("%d accounts listed, want %d", len(first), n)
				}
				if err != nil {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
					return err
				}
				if n == 1 {
					slots := 0.0
					for _, v := range samples(body, "twilio_trusthub_listing_duration_seconds") {
						slots += v
					}
					oneCycle[cycle], oneSlots[cycle] = append(oneCycle[cycle], took), append(oneSlots[cycle], slots)
				}
				ideal := max(median(oneCycle[cycle]), float64(n)*median(oneSlots[cycle])/bound)
				fmt.Printf("| %d | %s (run %d) | %d | %.2f s | %.2f s | %.2f× | %.2f / %.2f s | %.2f / %.2f s |\n", n, cycle, run+1, requests, took, ideal, took/ideal,
					slices.Min(first), slices.Max(first), slices.Min(last), slices.Max(last))
			}
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	return nil
}

// listingTimes reads, from a scrape's text, when each account's first and
// last listing of the cycle finished, in seconds after start.
func listingTimes(body string, start time.Time) (first, last []float64, err error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	mf, ok := mfs["twilio_trusthub_last_success_timestamp_seconds"]
	if !ok {
		return nil, nil, fmt.Errorf("no twilio_trusthub_last_success_timestamp_seconds in the scrape")
	}
	lo, hi := map[string]float64{}, map[string]float64{}
	for _, m := range mf.GetMetric() {
		account := ""
		for _, l := range m.GetLabel() {
			if l.GetName() == "account" {
				account = l.GetValue()
			}
		}
		at := m.GetGauge().GetValue() - float64(start.UnixNano())/1e9
		if v, ok := lo[account]; !ok || at < v {
			lo[account] = at
		}
		hi[account] = max(hi[account], at)
	}
	for account := range lo {
		first, last = append(first, lo[account]), append(last, hi[account])
	}
	return first, last, nil
}
