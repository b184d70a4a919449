package main

import (
	"context"
	"crypto/md5" //nolint:gosec // G501: Prometheus' hashmod, not a secret
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// hashmod is Prometheus' relabel action of that name: the last 8 bytes
// of the value's MD5, big-endian, modulo mod.
func hashmod(value string, mod uint64) uint64 {
	sum := md5.Sum([]byte(value)) //nolint:gosec // G401: as Prometheus computes it
	return binary.BigEndian.Uint64(sum[8:]) % mod
}

// probesInFlight is how many probes the bench keeps waiting on each
// replica during the first cycle: enough that every replica's
// max_concurrent_listings is always busy (each probe begins its account's
// five listings), as Prometheus' scrapes of every target would.
const probesInFlight = 100

// runSharded measures the sharded shape of examples/prometheus-sharded.yml:
// replicas exporters on one configuration (n subaccounts over parents,
// discovered by each), every account probed on the replica hashmod
// assigns it. It reports the first cycle (every account probed once,
// each waiting for its listings) against the ideal, each replica's peak
// RSS after it and after scrapes more cached rounds, and cached /probe
// times. With profileDir, replica 0's heap and goroutine profiles are
// saved there after the cached rounds.
func runSharded(n, parents, profiles, concurrency, replicas int, latency time.Duration, scrapes int, bin, profileDir string) error {
	est, err := startEstate(n, parents, profiles, concurrency, latency, bin, profileDir != "")
	if err != nil {
		return err
	}
	defer est.stop()
	sim, addr0 := est.sim, est.addr
	addrs, cmds := []string{addr0}, []*exec.Cmd{est.cmd}
	for range replicas - 1 {
		addr, cmd, stopReplica, err := startReplica(est.bin, filepath.Join(est.dir, "config.yml"), false, n+parents)
		if err != nil {
			return err
		}
		defer stopReplica()
		addrs, cmds = append(addrs, addr), append(cmds, cmd)
	}
	names, err := accountNames(addr0)
	if err != nil {
		return err
	}
	shards := make([][]string, replicas)
	for _, name := range names {
		i := hashmod(name, uint64(replicas)) //nolint:gosec // G115: replicas is at least 2
		shards[i] = append(shards[i], name)
	}

	// The first cycle: every account probed once on its replica, waiting
	// for its listings.
	before := sim.Requests()
	start := time.Now()
	took := make([]time.Duration, replicas)
	if err := probeShards(addrs, shards, probesInFlight, func(r int) { took[r] = time.Since(start) }); err != nil {
		return err
	}
	cycle := time.Since(start)
	requests := sim.Requests() - before
	ideal := time.Duration(requests) * latency / time.Duration(concurrency*replicas)
	peaks := make([]int64, replicas)
	for r, cmd := range cmds {
		peaks[r], _ = memory(cmd.Process.Pid)
	}
	// Cached rounds, every account again, as Prometheus' later scrapes.
	for range scrapes {
		if err := probeShards(addrs, shards, 8, nil); err != nil {
			return err
		}
	}
	if profileDir != "" {
		if err := saveProfiles(addr0, profileDir); err != nil {
			return err
		}
	}
	var probe [2]float64
	probe, err = timed(scrapes*4, func() error {
		name := shards[0][len(shards[0])/2]
		return get("http://" + addrs[0] + "/probe?account=" + url.QueryEscape(name))
	})
	if err != nil {
		return err
	}

	fmt.Printf("%d subaccounts of %d parents × %d Customer-Profiles (other kinds empty), %s latency, max_concurrent_listings %d, %d replicas sharded by hashmod\n\n",
		n, parents, profiles, latency, concurrency, replicas)
	fmt.Println("| measure | value |")
	fmt.Println("|---|---|")
	fmt.Printf("| first cycle, every account probed once on its replica | %.1f s |\n", cycle.Seconds())
	fmt.Printf("| requests | %d |\n", requests)
	fmt.Printf("| ideal (requests × latency ÷ (concurrency × replicas)) | %.1f s |\n", ideal.Seconds())
	fmt.Printf("| ratio | %.2f× |\n", cycle.Seconds()/ideal.Seconds())
	for r, cmd := range cmds {
		peakEnd, rssEnd := memory(cmd.Process.Pid)
		fmt.Printf("| replica %d: accounts, cycle, peak RSS after it, after %d cached rounds (now) | %d, %.1f s, %s, %s (%s) |\n",
			r, scrapes, len(shards[r]), took[r].Seconds(), mib(peaks[r]), mib(peakEnd), mib(rssEnd))
	}
	fmt.Printf("| cached /probe, median / p90 | %.2f / %.2f ms |\n", probe[0]*1e3, probe[1]*1e3)
	// Where replica 0's memory is, from its own Go series.
	body, err := fetch("http://" + addr0 + "/exporter-metrics")
	if err != nil {
		return err
	}
	var parts []string
	for _, name := range []string{"go_memstats_heap_inuse_bytes", "go_memstats_heap_idle_bytes", "go_memstats_heap_released_bytes", "go_memstats_stack_inuse_bytes", "go_memstats_next_gc_bytes", "go_goroutines"} {
		v := samples(body, name)
		if len(v) != 1 {
			return fmt.Errorf("/exporter-metrics has %d %s samples", len(v), name)
		}
		if name == "go_goroutines" {
			parts = append(parts, fmt.Sprintf("%s %.0f", name, v[0]))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s", name, mib(int64(v[0]))))
	}
	fmt.Printf("| replica 0's Go memory after the cached rounds | %s |\n", strings.Join(parts, ", "))
	return nil
}

// fetch returns the body of a GET of url.
func fetch(url string) (string, error) {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// probeShards probes every account of shards[r] on addrs[r], inFlight at
// a time on each replica; done(r), when not nil, is called once replica
// r's are all answered.
func probeShards(addrs []string, shards [][]string, inFlight int, done func(r int)) error {
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for r, shard := range shards {
		// Each replica's probes are issued by a goroutine of their own, so
		// the replicas start together.
		wg.Go(func() {
			var left atomic.Int64
			left.Store(int64(len(shard)))
			sem := make(chan struct{}, inFlight)
			for _, name := range shard {
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					if err := get("http://" + addrs[r] + "/probe?account=" + url.QueryEscape(name)); err != nil {
						failed.CompareAndSwap(nil, &err)
					}
					if left.Add(-1) == 0 && done != nil {
						done(r)
					}
				})
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		return fmt.Errorf("probe: %w", *err)
	}
	return nil
}
