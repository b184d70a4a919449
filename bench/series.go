package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// findPrometheus returns the Prometheus binary to measure: promBin, else
// PROMETHEUS3_BINARY, else prometheus on PATH.
func findPrometheus(promBin string) (string, error) {
	if promBin == "" {
		promBin = os.Getenv("PROMETHEUS3_BINARY")
	}
	if promBin == "" {
		p, err := exec.LookPath("prometheus")
		if err != nil {
			return "", errors.New("no Prometheus: pass -prometheus, set PROMETHEUS3_BINARY or put prometheus on PATH")
		}
		promBin = p
	}
	return promBin, nil
}

// seriesMode is one way of exporting the per-object series.
type seriesMode struct {
	name      string
	perObject bool
	status    string // per_object_status
}

var seriesModes = []seriesMode{
	{"per-profile off", false, "full"},
	{"per_object_status: full", true, "full"},
	{"per_object_status: sparse", true, "sparse"},
}

// runSeries measures what the per-object series cost a real Prometheus:
// for each mode, an exporter of one account of n Customer-Profiles (the
// other kinds empty) is scraped by a fresh Prometheus every second, and
// once its head holds every series and it has scraped settle more times,
// its head series and memory are read from its own /metrics. The
// Prometheus server scrapes only the exporter, so its head holds nothing
// else but the five series Prometheus adds per target.
func runSeries(n int, promBin, bin string, settle int) error {
	promBin, version, err := prometheusVersion(promBin)
	if err != nil {
		return err
	}
	dir, bin, err := workdir("trusthub-bench", bin)
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	sim, stop, err := serve(1, n, 0)
	if err != nil {
		return err
	}
	defer stop()

	fmt.Printf("%d Customer-Profiles in one account (other kinds empty), scraped every 1s by %s; read after %d scrapes with every series in\n\n",
		n, version, settle)
	fmt.Println("| mode | series in /metrics | Prometheus head series | Prometheus RSS | Prometheus peak RSS | Prometheus Go heap in use |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, m := range seriesModes {
		r, err := measureSeries(bin, promBin, dir, sim, m, settle)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		fmt.Printf("| %s | %d | %d | %s | %s | %s |\n", m.name, r.exported, r.head, mib(r.rss), mib(r.peak), mib(r.heap))
	}
	return nil
}

type seriesCost struct {
	exported, head  int
	rss, peak, heap int64
}

func measureSeries(bin, promBin, parent, sim string, m seriesMode, settle int) (seriesCost, error) {
	dir, err := os.MkdirTemp(parent, "series")
	if err != nil {
		return seriesCost{}, err
	}
	cfg := filepath.Join(dir, "exporter.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "api_url: %s\nmessaging_api_url: %[1]s\ncache_ttl: 1h\ntimeout: 10m\nper_object_metrics: %v\nper_object_status: %s\n"+
		"accounts:\n  - name: a0\n    account_sid: %s\n    auth_token: %s\n", sim, m.perObject, m.status, sid(0), token), 0o600); err != nil {
		return seriesCost{}, err
	}
	addr, err := freeAddr()
	if err != nil {
		return seriesCost{}, err
	}
	exp, err := startProcess(bin, "http://"+addr+"/-/healthy", "--config.file="+cfg, "--web.listen-address="+addr)
	if err != nil {
		return seriesCost{}, err
	}
	defer stopProcess(exp)
	body, _, err := scrape(addr, false, true) // the one listing
	if err != nil {
		return seriesCost{}, err
	}
	if ups := samples(body, "twilio_trusthub_up"); len(ups) != 1 || ups[0] != 1 {
		return seriesCost{}, fmt.Errorf("the listing failed: up = %v", ups)
	}
	var c seriesCost
	for _, line := range strings.Split(body, "\n") {
		if line != "" && line[0] != '#' {
			c.exported++
		}
	}

	if err := measurePrometheus(promBin, dir, addr, time.Second, settle, 2*time.Minute, &c); err != nil {
		return seriesCost{}, err
	}
	return c, nil
}

// prometheusVersion finds the Prometheus binary (see findPrometheus) and
// returns it with the first line of its --version.
func prometheusVersion(promBin string) (bin, version string, err error) {
	promBin, err = findPrometheus(promBin)
	if err != nil {
		return "", "", err
	}
	out, err := exec.Command(promBin, "--version").CombinedOutput() //nolint:gosec // the operator names the program to measure
	if err != nil {
		return "", "", fmt.Errorf("%s --version: %w", promBin, err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return promBin, strings.TrimSpace(first), nil
}

// measurePrometheus starts a fresh Prometheus in dir scraping target every
// interval, waits (at most wait) until its head holds c.exported series
// and the five Prometheus adds per target, lets it scrape settle more
// times, and reads its head series and memory into c.
func measurePrometheus(promBin, dir, target string, interval time.Duration, settle int, wait time.Duration, c *seriesCost) error {
	promAddr, err := freeAddr()
	if err != nil {
		return err
	}
	promCfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promCfg, fmt.Appendf(nil, "global:\n  scrape_interval: %s\n  scrape_timeout: %[1]s\nscrape_configs:\n"+
		"  - job_name: twilio_trusthub\n    static_configs:\n      - targets: ['%s']\n", interval, target), 0o600); err != nil {
		return err
	}
	prom, err := startProcess(promBin, "http://"+promAddr+"/-/ready", "--config.file="+promCfg,
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	if err != nil {
		return err
	}
	defer stopProcess(prom)

	want := c.exported + 5
	deadline := time.Now().Add(wait)
	for {
		body, _, err := scrape(promAddr, false, true)
		if err != nil {
			return err
		}
		if v := samples(body, "prometheus_tsdb_head_series"); len(v) == 1 && int(v[0]) >= want {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the head of Prometheus does not hold the %d series after %s", want, wait)
		}
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(time.Duration(settle) * interval)
	body, _, err := scrape(promAddr, false, true)
	if err != nil {
		return err
	}
	read := func(name string) (float64, error) {
		v := samples(body, name)
		if len(v) != 1 {
			return 0, fmt.Errorf("the /metrics of Prometheus has %d %s samples", len(v), name)
		}
		return v[0], nil
	}
	head, err := read("prometheus_tsdb_head_series")
	if err != nil {
		return err
	}
	rss, err := read("process_resident_memory_bytes")
	if err != nil {
		return err
	}
	heap, err := read("go_memstats_heap_inuse_bytes")
	if err != nil {
		return err
	}
	c.head, c.rss, c.heap = int(head), int64(rss), int64(heap)
	c.peak, _ = memory(prom.Process.Pid)
	return nil
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr() (string, error) {
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// startProcess starts bin and waits until GET readyURL answers 200.
func startProcess(bin, readyURL string, args ...string) (*exec.Cmd, error) {
	cmd := exec.Command(bin, args...) //nolint:gosec // the operator names the programs to measure
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	for range 1200 {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, readyURL, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd, nil
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	stopProcess(cmd)
	return nil, fmt.Errorf("%s did not get ready in 30s", filepath.Base(bin))
}

func stopProcess(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// runSubaccountSeries measures what n discovered subaccounts of profiles
// Customer-Profiles each cost a real Prometheus in aggregate series: the
// exporter (per_object_metrics off, so that only the aggregates and the
// process's own series are exported) is scraped every 5s by a fresh
// Prometheus, and once its head holds every series and it has scraped
// settle more times, its head series and memory are read.
func runSubaccountSeries(n, profiles int, promBin, bin string, settle int) error {
	promBin, version, err := prometheusVersion(promBin)
	if err != nil {
		return err
	}
	est, err := startEstate(n, 1, profiles, 10, 0, bin, false, "per_object_metrics: false")
	if err != nil {
		return err
	}
	defer est.stop()
	dir, addr := est.dir, est.addr
	body, _, err := scrape(addr, false, true) // the one listing
	if err != nil {
		return err
	}
	var c seriesCost
	perAccount := map[string]int{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		c.exported++
		if _, rest, ok := strings.Cut(line, `account="`); ok {
			account, _, _ := strings.Cut(rest, `"`)
			perAccount[account]++
		}
	}
	quiet := perAccount[subaccountSID(n/2)]
	if err := measurePrometheus(promBin, dir, addr, 5*time.Second, settle, 3*time.Minute, &c); err != nil {
		return err
	}
	fmt.Printf("%d subaccounts × %d Customer-Profiles (other kinds empty), per_object_metrics off, scraped every 5s by %s; read after %d scrapes with every series in\n\n",
		n, profiles, version, settle)
	fmt.Println("| series in /metrics | of one quiet subaccount | Prometheus head series | Prometheus RSS | Prometheus peak RSS | Prometheus Go heap in use |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|")
	fmt.Printf("| %d | %d | %d | %s | %s | %s |\n", c.exported, quiet, c.head, mib(c.rss), mib(c.peak), mib(c.heap))
	return nil
}
