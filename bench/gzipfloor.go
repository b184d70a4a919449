package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// prometheus3Accept is the Accept header Prometheus 3 sends with its
// default scrape_protocols: OpenMetrics first.
const prometheus3Accept = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.7,application/openmetrics-text;version=0.0.1;q=0.6,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.3"

// gzipFloor is a cached gzipped scrape of the exporter against the least a
// server can do for the same response: the same bytes, already in memory,
// gzipped per request.
type gzipFloor struct {
	format           string
	exporter, floor  float64 // medians, in seconds
	plainBytes, wire int
}

// measureGzipFloor fetches the exporter's uncompressed body once per format,
// then times n gzipped scrapes of the exporter and n of an in-process server
// answering with those bytes, gzipped per request by the same package at the
// same level as the exporter's (server/server.go: klauspost gzip, BestSpeed,
// pooled writers), over loopback with the same client.
func measureGzipFloor(addr string, n int) ([]gzipFloor, error) {
	var out []gzipFloor
	for _, f := range []struct{ name, accept string }{
		{"text 0.0.4 (no Accept)", ""},
		{"OpenMetrics (Prometheus 3 Accept)", prometheus3Accept},
	} {
		body, contentType, err := fetchPlain(addr, f.accept)
		if err != nil {
			return nil, err
		}
		floorAddr, stop := serveGzipped(body, contentType)
		var exp, flo []float64
		wire := 0
		for range n {
			d, _, err := timedScrape(addr, f.accept)
			if err != nil {
				stop()
				return nil, err
			}
			exp = append(exp, d)
			d, w, err := timedScrape(floorAddr, f.accept)
			if err != nil {
				stop()
				return nil, err
			}
			flo = append(flo, d)
			wire = w
		}
		stop()
		out = append(out, gzipFloor{format: f.name, exporter: median(exp), floor: median(flo), plainBytes: len(body), wire: wire})
	}
	return out, nil
}

// fetchPlain returns one uncompressed response of the exporter and its
// Content-Type.
func fetchPlain(addr, accept string) ([]byte, string, error) {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "600")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	// The transport would ask for gzip and undo it; identity keeps the
	// exporter's own bytes.
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.Header.Get("Content-Encoding") != "" {
		return nil, "", fmt.Errorf("the exporter answered identity with Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	body, err := io.ReadAll(resp.Body)
	return body, resp.Header.Get("Content-Type"), err
}

// timedScrape GETs /metrics asking for gzip, as Prometheus does, reads the
// whole compressed body and returns the wall time and the bytes read.
func timedScrape(addr, accept string) (float64, int, error) {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "600")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	// Set by hand, the transport leaves the body compressed.
	req.Header.Set("Accept-Encoding", "gzip")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
		return 0, 0, fmt.Errorf("GET %s: status %d, Content-Encoding %q", addr, resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	return time.Since(start).Seconds(), int(n), nil
}

// serveGzipped starts a loopback server answering every request with body,
// gzipped per request the way the exporter gzips.
func serveGzipped(body []byte, contentType string) (addr string, stop func()) {
	writers := sync.Pool{New: func() any {
		gz, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed) // a valid level: no error
		return gz
	}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Encoding", "gzip")
		gz := writers.Get().(*gzip.Writer)
		gz.Reset(w)
		_, _ = gz.Write(body)
		_ = gz.Close()
		writers.Put(gz)
	}))
	return strings.TrimPrefix(ts.URL, "http://"), ts.Close
}

// printGzipFloor prints the exporter's gzipped cached scrapes against the floor.
func printGzipFloor(rows []gzipFloor, what string) {
	fmt.Println("| cached scrape, " + what + ", gzip | exporter median | floor: same body from memory, gzip BestSpeed per request | ratio | target |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Printf("| %s, %s (%s gzipped) | %.1f ms | %.1f ms | %.2f× | ≤ 1.20× |\n", r.format, size(r.plainBytes), size(r.wire),
			r.exporter*1000, r.floor*1000, r.exporter/r.floor)
	}
}
