package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// parentSIDOf is the SID of the subaccount benchmark's parent p.
func parentSIDOf(p int) string { return fmt.Sprintf("AC5ba%028xf", p) }

// parentName is the configured name of parent p.
func parentName(p int) string {
	if p == 0 {
		return "isv"
	}
	return fmt.Sprintf("isv-%d", p)
}

func subaccountSID(i int) string { return fmt.Sprintf("AC%032x", 0x5ba00000+i) }

// waitSeconds is the scrape timeout the bench's scrapes and probes send,
// and the exporter's listing timeout: a first cycle of 10,000
// subaccounts at 100 ms per request takes over ten minutes.
const waitSeconds = 3600

// runSubaccounts measures n discovered subaccounts of profiles
// Customer-Profiles each (every other kind empty), with latency per
// request: the first full listing against the ideal (requests × latency ÷
// max_concurrent_listings), peak RSS, and cached /metrics and /probe
// scrape times.
func runSubaccounts(n, parents, profiles, concurrency int, latency time.Duration, scrapes int, bin, profileDir string) error {
	est, err := startEstate(n, parents, profiles, concurrency, latency, bin, profileDir != "")
	if err != nil {
		return err
	}
	defer est.stop()
	sim, addr, cmd := est.sim, est.addr, est.cmd
	before := sim.Requests()
	start := time.Now()
	if _, _, err := scrape(addr, false, false); err != nil {
		return err
	}
	took := time.Since(start)
	requests := sim.Requests() - before
	ideal := time.Duration(requests) * latency / time.Duration(concurrency)
	peak, rss := memory(cmd.Process.Pid)
	goroutines, err := goroutineCount(addr)
	if err != nil {
		return err
	}
	if profileDir != "" {
		if err := saveProfiles(addr, profileDir); err != nil {
			return err
		}
	}

	metrics, err := timed(scrapes, func() error { _, _, err := scrape(addr, true, false); return err })
	if err != nil {
		return err
	}
	probe, err := timed(scrapes*4, func() error {
		return get("http://" + addr + "/probe?account=" + subaccountSID(n/2))
	})
	if err != nil {
		return err
	}
	// The cached scrapes gather every series again: the peak is read
	// once more after them.
	peakEnd, rssEnd := memory(cmd.Process.Pid)
	// The floor: the same bytes from memory, gzipped per request, in each
	// format, interleaved with the exporter's scrapes.
	floors, err := measureGzipFloor(addr, scrapes)
	if err != nil {
		return err
	}
	peakFloor, _ := memory(cmd.Process.Pid)
	fmt.Printf("%d subaccounts of %d parents × %d Customer-Profiles (other kinds empty), %s latency, max_concurrent_listings %d\n\n", n, parents, profiles, latency, concurrency)
	fmt.Println("| measure | value |")
	fmt.Println("|---|---|")
	fmt.Printf("| first full listing (one scrape) | %.1f s |\n", took.Seconds())
	fmt.Printf("| requests | %d |\n", requests)
	fmt.Printf("| ideal (requests × latency ÷ concurrency) | %.1f s |\n", ideal.Seconds())
	fmt.Printf("| ratio | %.2f× |\n", took.Seconds()/ideal.Seconds())
	fmt.Printf("| peak RSS after the listing | %s (now %s) |\n", mib(peak), mib(rss))
	fmt.Printf("| peak RSS after the cached scrapes | %s (now %s) |\n", mib(peakEnd), mib(rssEnd))
	fmt.Printf("| peak RSS after the floor's scrapes too | %s |\n", mib(peakFloor))
	fmt.Printf("| goroutines after the listing | %d |\n", goroutines)
	fmt.Printf("| cached /metrics, gzip, median / p90 | %.1f / %.1f ms |\n", metrics[0]*1e3, metrics[1]*1e3)
	fmt.Printf("| cached /probe, median / p90 | %.2f / %.2f ms |\n", probe[0]*1e3, probe[1]*1e3)
	fmt.Println()
	printGzipFloor(floors, fmt.Sprintf("%d subaccounts", n))
	return nil
}

// estate is a simulated estate and the exporter discovering it.
type estate struct {
	sim  *simulator.Server
	addr string
	cmd  *exec.Cmd
	// dir is its folder, which holds the exporter's configuration
	// (config.yml), and bin the exporter's binary: for more replicas
	// (startReplica), or a Prometheus' data.
	dir, bin string
	// stop stops the exporter and the simulator, and removes their folder.
	stop func()
}

// startEstate starts a simulated estate of n subaccounts of profiles
// Customer-Profiles each, spread evenly over parents, with latency per
// request, and the exporter (bin, or built from this repository when
// empty) discovering them, in a folder of its own; it returns once every
// subaccount is discovered.
func startEstate(n, parents, profiles, concurrency int, latency time.Duration, bin string, pprof bool, settings ...string) (*estate, error) {
	dir, bin, err := workdir("trusthub-bench", bin)
	if err != nil {
		return nil, err
	}
	sim := simulator.New()
	now := time.Now()
	parents = max(parents, 1)
	for p := range parents {
		sim.AddAccount(parentSIDOf(p), token, nil)
	}
	for i := range n {
		sub := subaccountSID(i)
		sim.AddSubaccount(parentSIDOf(i%parents), sub, fmt.Sprintf("cust-%d", i), fmt.Sprintf("tok-%d", i))
		sim.SetObjects(sub, kinds.CustomerProfiles, simulator.Generate(sub, profiles, now, uint64(i+1)))
	}
	sim.SetFault(simulator.Fault{Delay: latency})
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	fail := func(err error) (*estate, error) {
		_ = srv.Close()
		_ = os.RemoveAll(dir)
		return nil, err
	}

	cfg := filepath.Join(dir, "config.yml")
	body := fmt.Sprintf("api_url: %s\nmessaging_api_url: %[1]s\naccounts_api_url: %[1]s\ncache_ttl: 1h\ntimeout: %dm\nmax_concurrent_listings: %d\naccounts:\n",
		url, waitSeconds/60, concurrency)
	for p := range parents {
		body += fmt.Sprintf("  - name: %s\n    account_sid: %s\n    auth_token: %s\n    subaccounts:\n      discover: true\n", parentName(p), parentSIDOf(p), token)
	}
	for _, line := range settings {
		body += line + "\n"
	}
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		return fail(err)
	}
	addr, cmd, stopExporter, err := startReplica(bin, cfg, pprof, n+parents)
	if err != nil {
		return fail(err)
	}
	stop := func() { stopExporter(); _ = srv.Close(); _ = os.RemoveAll(dir) }
	return &estate{sim: sim, addr: addr, cmd: cmd, dir: dir, bin: bin, stop: stop}, nil
}

// startReplica starts the exporter on configuration cfg and returns once
// /accounts lists the accounts expected.
func startReplica(bin, cfg string, pprof bool, accounts int) (string, *exec.Cmd, func(), error) {
	addr, err := freeAddr()
	if err != nil {
		return "", nil, nil, err
	}
	args := []string{"--config.file=" + cfg, "--web.listen-address=" + addr, "--web.max-requests=0"}
	if pprof {
		args = append(args, "--web.enable-pprof")
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		return "", nil, nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }

	// Wait for the discovery, through /accounts, which lists nothing.
	for i := 0; ; i++ {
		if names, err := accountNames(addr); err == nil && len(names) == accounts {
			break
		}
		if i == 2400 {
			stop()
			return "", nil, nil, fmt.Errorf("the %d accounts were not discovered", accounts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addr, cmd, stop, nil
}

// accountNames returns the targets /accounts lists.
func accountNames(addr string) ([]string, error) {
	var groups []struct{ Targets []string }
	if err := getJSON("http://"+addr+"/accounts", &groups); err != nil {
		return nil, err
	}
	var names []string
	for _, g := range groups {
		names = append(names, g.Targets...)
	}
	return names, nil
}

// timed runs f n times and returns the median and 90th percentile, in
// seconds.
func timed(n int, f func() error) ([2]float64, error) {
	var times []float64
	for range n {
		start := time.Now()
		if err := f(); err != nil {
			return [2]float64{}, err
		}
		times = append(times, time.Since(start).Seconds())
	}
	slices.Sort(times)
	return [2]float64{median(times), times[len(times)*9/10]}, nil
}

func get(url string) error {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.Itoa(waitSeconds))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

func getJSON(url string, v any) error {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	return json.NewDecoder(resp.Body).Decode(v)
}

// goroutineCount reads the exporter's go_goroutines: every idle keep-alive
// connection it holds to the API is two of them.
func goroutineCount(addr string) (int, error) {
	body, _, err := scrape(addr, false, true)
	if err != nil {
		return 0, err
	}
	v := samples(body, "go_goroutines")
	if len(v) != 1 {
		return 0, fmt.Errorf("/metrics has %d go_goroutines samples", len(v))
	}
	return int(v[0]), nil
}

// saveProfiles saves the exporter's heap (after a GC) and goroutine
// profiles into dir, for go tool pprof.
func saveProfiles(addr, dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	for file, path := range map[string]string{"heap.pb.gz": "/debug/pprof/heap?gc=1", "goroutine.pb.gz": "/debug/pprof/goroutine"} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", path, resp.Status)
		}
		if err := os.WriteFile(filepath.Join(dir, file), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
