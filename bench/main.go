// Command bench measures the exporter against a simulated TrustHub on
// loopback and prints a table: listing time against a minimal client's (the
// floor), peak memory, cached scrape latency and size, a gzipped cached scrape
// against the same bytes gzipped from memory (its floor), ten accounts against
// one, the heap across 1,000 listings, and, when a Prometheus binary is found,
// what the per-object series of 10,000 profiles cost it.
//
//	go run ./bench                      # the figures of docs/performance.md
//	go run ./bench -no-series           # all but the Prometheus series figures (or -series 0)
//	go run ./bench -latency 0 -runs 5   # no simulated network delay
//	go run ./bench -subaccounts 1000    # 1,000 discovered subaccounts
//	go run ./bench -series 10000        # what the per-object series cost a real Prometheus
//	go run ./bench -series 1 -subaccounts 1000 -settle 6  # what the aggregates of 1,000 subaccounts cost it
//	go run ./bench -subaccounts 1000 -sub-profile-dir prof  # and save the exporter's heap and goroutine profiles
//	go run ./bench -fair 10             # how ten accounts of every kind share max_concurrent_listings
//	go run ./bench -noise               # the alerts, notifications and pages of the --demo estate
//	go run ./bench -noise -rules R -alertmanager A  # the same through other rules and routing
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/exporter"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/exposition"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

const token = "bench-token"

func sid(i int) string { return fmt.Sprintf("AC%032x", 0xbe0c0+i) }

func main() {
	var (
		floorURL   = flag.String("floor", "", "internal: list this URL as the floor client and print the seconds taken")
		floorSID   = flag.String("floor-sid", "", "internal: the floor client's account SID")
		sizes      = flag.String("profiles", "10000,100000", "account sizes to list, comma-separated")
		latency    = flag.Duration("latency", 100*time.Millisecond, "simulated TrustHub latency per request")
		runs       = flag.Int("runs", 3, "listings per measurement; the median is reported")
		listings   = flag.Int("leak-listings", 1000, "consecutive listings for the heap check")
		scrapes    = flag.Int("scrapes", 50, "cached scrapes timed")
		exporterB  = flag.String("exporter", "", "exporter binary; built from this repository when empty")
		services   = flag.Int("services", 5, "Messaging Services (without campaigns) in the request-count check")
		subs       = flag.Int("subaccounts", 0, "when set, measure only this many discovered subaccounts of -sub-profiles Customer-Profiles each")
		subProfs   = flag.Int("sub-profiles", 20, "Customer-Profiles per subaccount, with -subaccounts")
		parents    = flag.Int("parents", 1, "parent accounts the subaccounts are spread over, with -subaccounts (Twilio allows 1,000 subaccounts per parent by default)")
		replicas   = flag.Int("replicas", 1, "with -subaccounts, when 2 or more: that many exporter replicas, each account probed on the one hashmod assigns it, as examples/prometheus-sharded.yml")
		subConc    = flag.Int("sub-concurrency", 10, "max_concurrent_listings, with -subaccounts")
		series     = flag.Int("series", 0, "when set above 0, measure only the head series and memory of a real Prometheus scraping this many Customer-Profiles: per-profile off, per_object_status full and sparse; when 0, skip them in the default run, which otherwise measures 10,000")
		noSeries   = flag.Bool("no-series", false, "skip the Prometheus series figures in the default run")
		promBin    = flag.String("prometheus", "", "Prometheus binary, with -series; PROMETHEUS3_BINARY or prometheus on PATH when empty")
		settle     = flag.Int("settle", 30, "scrapes Prometheus makes with every series in before it is read, with -series")
		subProfDir = flag.String("sub-profile-dir", "", "with -subaccounts, save the exporter's heap and goroutine profiles after the first listing (with -replicas, replica 0's after the cached rounds) into this folder")
		requests   = flag.Int("requests", 0, "when set, count only the requests of one listing cycle of this many discovered subaccounts (the simulator's ISV estate), in process")
		noise      = flag.Bool("noise", false, "measure only the alerts, notifications and pages of the --demo estate (Prometheus and Alertmanager on PATH, or -prometheus and -alertmanager-binary)")
		rulesFile  = flag.String("rules", "", "with -noise, the rules file (every for: shortened to 5s); empty: the mixin's, generated")
		amConfig   = flag.String("alertmanager", "", "with -noise, the Alertmanager configuration; empty: examples/alertmanager.yml")
		amBin      = flag.String("alertmanager-binary", "", "with -noise, the Alertmanager binary")
		fair       = flag.Int("fair", 0, "when set, measure only how this many accounts of -fair-profiles Customer-Profiles and every other kind share max_concurrent_listings in one cycle (-latency per request, -runs times)")
		fairProfs  = flag.Int("fair-profiles", 10000, "Customer-Profiles per account, with -fair")
	)
	flag.Parse()
	if *floorURL != "" {
		secs, err := floor(*floorURL, *floorSID)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(secs)
		return
	}
	if *requests > 0 {
		if err := runRequests(*requests); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *fair > 0 {
		if err := runFair(*exporterB, *fair, *fairProfs, *latency, *runs); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *noise {
		if err := runNoise(*rulesFile, *amConfig, *promBin, *amBin, *exporterB); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	seriesSet := false
	flag.Visit(func(f *flag.Flag) { seriesSet = seriesSet || f.Name == "series" })
	if *series > 0 && *subs > 0 {
		if err := runSubaccountSeries(*subs, *subProfs, *promBin, *exporterB, *settle); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *series > 0 {
		if err := runSeries(*series, *promBin, *exporterB, *settle); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *subs > 0 && *replicas > 1 {
		if err := runSharded(*subs, *parents, *subProfs, *subConc, *replicas, *latency, *scrapes, *exporterB, *subProfDir); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *subs > 0 {
		if err := runSubaccounts(*subs, *parents, *subProfs, *subConc, *latency, *scrapes, *exporterB, *subProfDir); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*sizes, *latency, *runs, *listings, *scrapes, *services, *exporterB); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if *noSeries || seriesSet {
		return
	}
	fmt.Println()
	if _, err := findPrometheus(*promBin); err != nil {
		// The other figures stand without it: say what is missing, do not fail.
		fmt.Println("series figures skipped:", err)
		return
	}
	if err := runSeries(10000, *promBin, *exporterB, *settle); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// workdir makes a temporary folder named after prefix, and builds the
// exporter into it unless bin names one: the caller removes the folder.
func workdir(prefix, bin string) (string, string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", "", err
	}
	if bin == "" {
		bin = filepath.Join(dir, "twilio_trusthub_exporter")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			_ = os.RemoveAll(dir)
			return "", "", fmt.Errorf("go build: %w\n%s", err, out)
		}
	}
	return dir, bin, nil
}

func run(sizes string, latency time.Duration, runs, listings, scrapes, services int, bin string) error {
	dir, bin, err := workdir("trusthub-bench", bin)
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Printf("twilio_trusthub_exporter benchmark, %s, %s/%s, %d CPUs, simulated latency %s per request, median of %d\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), latency, runs)

	// Listing time and memory, per account size.
	fmt.Println("| profiles | floor listing | exporter listing, per-profile off | ratio | exporter listing, per-profile on | ratio | peak RSS, off | peak RSS, on | RSS after, on |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, field := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil {
			return fmt.Errorf("-profiles: %w", err)
		}
		sim, stop, err := serve(1, n, latency)
		if err != nil {
			return err
		}
		var floorTimes []float64
		for range runs {
			out, err := exec.Command(self, "-floor", sim+kinds.CustomerProfiles.ListPath+"?PageSize=1000", "-floor-sid", sid(0)).Output()
			if err != nil {
				stop()
				return fmt.Errorf("floor client: %w", err)
			}
			secs, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
			floorTimes = append(floorTimes, secs)
		}
		off, err := measureListing(bin, dir, sim, 1, false, runs)
		if err != nil {
			stop()
			return err
		}
		on, err := measureListing(bin, dir, sim, 1, true, runs)
		stop()
		if err != nil {
			return err
		}
		f := median(floorTimes)
		fmt.Printf("| %d | %.2f s | %.2f s | %.2f× | %.2f s | %.2f× | %s | %s | %s |\n", n, f, off.listing, off.listing/f, on.listing, on.listing/f,
			mib(off.peakRSS), mib(on.peakRSS), mib(on.rss))
	}

	// What the other kinds cost: requests, not time.
	fmt.Println()
	fmt.Printf("| profiles | Messaging Services | requests of one listing of every kind | expected: ceil(N/1000) + 4 + services |\n")
	fmt.Println("|---:|---:|---:|---:|")
	for _, field := range strings.Split(sizes, ",") {
		n, _ := strconv.Atoi(strings.TrimSpace(field))
		got, err := countRequests(bin, dir, n, services)
		if err != nil {
			return err
		}
		fmt.Printf("| %d | %d | %d | %d |\n", n, services, got, (n+999)/1000+4+services)
	}

	// Cached scrapes of 10,000 profiles with per-profile series.
	fmt.Println()
	sim, stop, err := serve(1, 10000, latency)
	if err != nil {
		return err
	}
	cached, floors, err := measureScrapes(bin, dir, sim, scrapes)
	stop()
	if err != nil {
		return err
	}
	fmt.Println("| cached scrape, 10,000 profiles, per-profile series | median | p90 | size |")
	fmt.Println("|---|---:|---:|---:|")
	for _, c := range cached {
		fmt.Printf("| %s | %.1f ms | %.1f ms | %s |\n", c.name, c.median*1000, c.p90*1000, size(c.bytes))
	}
	fmt.Println()
	printGzipFloor(floors, "10,000 profiles")

	// Ten accounts at once against one.
	fmt.Println()
	sim, stop, err = serve(10, 10000, latency)
	if err != nil {
		return err
	}
	one, err := measureListing(bin, dir, sim, 1, false, runs)
	if err != nil {
		stop()
		return err
	}
	ten, err := measureListing(bin, dir, sim, 10, false, runs)
	stop()
	if err != nil {
		return err
	}
	fmt.Println("| accounts × 10,000 profiles | scrape that lists them all | ratio to one account |")
	fmt.Println("|---:|---:|---:|")
	fmt.Printf("| 1 | %.2f s | 1.00× |\n| 10 | %.2f s | %.2f× |\n", one.scrape, ten.scrape, ten.scrape/one.scrape)

	// The heap across many listings, in this process.
	fmt.Println()
	before, after, err := heapAcrossListings(listings)
	if err != nil {
		return err
	}
	fmt.Printf("heap after GC, 1,000 profiles per listing, per-profile on: %s in %d objects after 10 listings, %s in %d objects after %d more\n",
		sizeU(before.HeapInuse), before.HeapObjects, sizeU(after.HeapInuse), after.HeapObjects, listings)
	return nil
}

// serve starts a simulated TrustHub with accounts of n profiles each.
func serve(accounts, n int, latency time.Duration) (url string, stop func(), err error) {
	sim := simulator.New()
	now := time.Now()
	for i := range accounts {
		sim.AddAccount(sid(i), token, simulator.Generate(sid(i), n, now, uint64(i+1)))
	}
	if latency > 0 {
		sim.SetFault(simulator.Fault{Delay: latency})
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// countRequests lists, once, an account of n Customer-Profiles, no Trust
// Products, brands, campaigns or toll-free verifications, and the given
// number of Messaging Services, and returns how many requests the
// simulator served.
func countRequests(bin, dir string, n, services int) (int64, error) {
	sim := simulator.New()
	sim.AddAccount(sid(0), token, simulator.Generate(sid(0), n, time.Now(), 1))
	var m simulator.Messaging
	for i := range services {
		m.Services = append(m.Services, simulator.ServedService{SID: simulator.Ptr(fmt.Sprintf("MG%032x", i))})
	}
	sim.SetMessaging(sid(0), m)
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close() }()
	addr, cmd, err := startExporter(bin, dir, "http://"+ln.Addr().String(), 1, false, "1h")
	if err != nil {
		return 0, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	body, _, err := scrape(addr, false, true)
	if err != nil {
		return 0, err
	}
	if ups := samples(body, "twilio_trusthub_up"); len(ups) != 1 || ups[0] != 1 {
		return 0, fmt.Errorf("a listing failed: up = %v", ups)
	}
	return sim.Requests(), nil
}

// floor is the least a client can do: fetch the same pages in the same
// order and decode the fields the exporter uses, nothing else.
func floor(first, accountSID string) (float64, error) {
	type page struct {
		Meta struct {
			NextPageURL string `json:"next_page_url"`
		} `json:"meta"`
		Results []struct {
			SID          string    `json:"sid"`
			FriendlyName string    `json:"friendly_name"`
			PolicySID    string    `json:"policy_sid"`
			Status       string    `json:"status"`
			ValidUntil   time.Time `json:"valid_until"`
			DateUpdated  time.Time `json:"date_updated"`
			Errors       []struct {
				Code *int64 `json:"code"`
			} `json:"errors"`
		} `json:"results"`
	}
	start := time.Now()
	n := 0
	for next := first; next != ""; {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, next, nil)
		if err != nil {
			return 0, err
		}
		req.SetBasicAuth(accountSID, token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		var p page
		err = json.NewDecoder(resp.Body).Decode(&p)
		_ = resp.Body.Close()
		if err != nil {
			return 0, err
		}
		n += len(p.Results)
		next = p.Meta.NextPageURL
	}
	if n == 0 {
		return 0, fmt.Errorf("floor: no profiles")
	}
	return time.Since(start).Seconds(), nil
}

type listing struct {
	listing float64 // median listing_duration_seconds of the slowest account
	scrape  float64 // median wall time of a scrape that lists
	peakRSS int64   // VmHWM after the runs
	rss     int64   // VmRSS after the runs
}

// startExporter starts the binary with accounts of the simulator, cache_ttl 0 so
// that every scrape lists.
func startExporter(bin, dir, sim string, accounts int, perObject bool, ttl string) (addr string, cmd *exec.Cmd, err error) {
	var b strings.Builder
	fmt.Fprintf(&b, "api_url: %s\nmessaging_api_url: %[1]s\ncache_ttl: %s\ntimeout: 10m\nper_object_metrics: %v\naccounts:\n", sim, ttl, perObject)
	for i := range accounts {
		fmt.Fprintf(&b, "  - name: a%d\n    account_sid: %s\n    auth_token: %s\n", i, sid(i), token)
	}
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		return "", nil, err
	}
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr = l.Addr().String()
	_ = l.Close()
	cmd = exec.Command(bin, "--config.file="+cfg, "--web.listen-address="+addr)
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	for range 200 {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+"/-/healthy", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			return addr, cmd, nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return "", nil, fmt.Errorf("exporter did not start")
}

func measureListing(bin, dir, sim string, accounts int, perObject bool, runs int) (listing, error) {
	addr, cmd, err := startExporter(bin, dir, sim, accounts, perObject, "0s")
	if err != nil {
		return listing{}, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var durations, walls []float64
	for range runs {
		start := time.Now()
		body, _, err := scrape(addr, false, true)
		if err != nil {
			return listing{}, err
		}
		walls = append(walls, time.Since(start).Seconds())
		slowest := 0.0
		for _, v := range samples(body, "twilio_trusthub_listing_duration_seconds") {
			slowest = max(slowest, v)
		}
		if ups := samples(body, "twilio_trusthub_up"); len(ups) != accounts || slices.Contains(ups, 0) {
			return listing{}, fmt.Errorf("a listing failed: up = %v", ups)
		}
		durations = append(durations, slowest)
	}
	peak, rss := memory(cmd.Process.Pid)
	return listing{listing: median(durations), scrape: median(walls), peakRSS: peak, rss: rss}, nil
}

type scrapeStat struct {
	name        string
	median, p90 float64
	bytes       int
}

// measureScrapes times n cached scrapes, plain and gzipped, then the
// gzipped ones against their floor (measureGzipFloor).
func measureScrapes(bin, dir, sim string, n int) ([]scrapeStat, []gzipFloor, error) {
	addr, cmd, err := startExporter(bin, dir, sim, 1, true, "1h")
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if _, _, err := scrape(addr, false, false); err != nil { // the one listing
		return nil, nil, err
	}
	var out []scrapeStat
	for _, gz := range []bool{false, true} {
		var times []float64
		size := 0
		for range n {
			start := time.Now()
			_, b, err := scrape(addr, gz, false)
			if err != nil {
				return nil, nil, err
			}
			times = append(times, time.Since(start).Seconds())
			size = b
		}
		slices.Sort(times)
		name := "plain text"
		if gz {
			name = "gzip (as Prometheus asks)"
		}
		out = append(out, scrapeStat{name: name, median: median(times), p90: times[len(times)*9/10], bytes: size})
	}
	floors, err := measureGzipFloor(addr, n)
	return out, floors, err
}

// scrape GETs /metrics; it returns the body if keep (and not gzipped) and
// the bytes on the wire.
func scrape(addr string, gz, keep bool) (string, int, error) {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.Itoa(waitSeconds))
	if gz {
		// Set by hand, the transport leaves the body compressed.
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if gz || !keep {
		// Counted, not kept: the timing is the exporter's, not a buffer's.
		n, err := io.Copy(io.Discard, resp.Body)
		return "", int(n), err
	}
	body, err := io.ReadAll(resp.Body)
	return string(body), len(body), err
}

// samples returns the values of every series of a metric in an exposition.
func samples(body, name string) []float64 {
	var out []float64
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// memory reads a process's peak and current resident set, in bytes.
func memory(pid int) (peak, rss int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1, -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmHWM:":
			peak = kb << 10
		case "VmRSS:":
			rss = kb << 10
		}
	}
	return peak, rss
}

// heapAcrossListings lists an account of 1,000 profiles (with per-profile
// series, written out each time) again and again in this process, and
// returns the heap in use after a GC, after 10 listings and after n more.
func heapAcrossListings(n int) (before, after runtime.MemStats, err error) {
	sim, stop, err := serve(1, 1000, 0)
	if err != nil {
		return before, after, err
	}
	defer stop()
	spec := config.Default()
	spec.APIURL, spec.MessagingAPIURL = sim, sim
	spec.CacheTTL = 0
	spec.Accounts = []config.Account{{Name: "a0", AccountSID: sid(0), AuthToken: promconfig.Secret(token)}}
	cfg, err := config.New(spec)
	if err != nil {
		return before, after, err
	}
	exp, err := exporter.New(cfg, exporter.Options{})
	if err != nil {
		return before, after, err
	}
	defer exp.Close()
	list := func() error {
		s := exp.Scrape(context.Background())
		var buf bytes.Buffer
		e := exposition.NewEncoder(&buf, expfmt.FmtText)
		s.Write(e)
		if err := e.Close(); err != nil {
			return err
		}
		parser := expfmt.NewTextParser(model.LegacyValidation)
		mfs, err := parser.TextToMetricFamilies(&buf)
		if err != nil || len(mfs) == 0 {
			return fmt.Errorf("listing gave %d families: %w", len(mfs), err)
		}
		return nil
	}
	heap := func() (m runtime.MemStats) {
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m
	}
	for range 10 {
		if err := list(); err != nil {
			return before, after, err
		}
	}
	before = heap()
	for range n {
		if err := list(); err != nil {
			return before, after, err
		}
	}
	return before, heap(), nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func size(b int) string {
	if b >= 1<<20 {
		return fmt.Sprintf("%.1f MB", float64(b)/1e6)
	}
	return fmt.Sprintf("%.0f kB", float64(b)/1e3)
}

func sizeU(b uint64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
