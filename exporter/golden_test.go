package exporter

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

var update = flag.Bool("update", false, "rewrite the expected exposition under testdata/ from what the tests gather")

// golden compares the families g gathers, but those in skip, with the
// text exposition in testdata/name; with -update it writes them there
// instead. A difference is shown line by line.
func golden(t *testing.T, name string, g prometheus.Gatherer, skip ...string) {
	t.Helper()
	filtered := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := g.Gather()
		return slices.DeleteFunc(mfs, func(mf *dto.MetricFamily) bool { return slices.Contains(skip, mf.GetName()) }), err
	})
	path := filepath.Join("testdata", name)
	if *update {
		mfs, err := filtered.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	defer func() { _ = f.Close() }()
	if err := testutil.GatherAndCompare(filtered, f); err != nil {
		t.Errorf("%s: %v", path, err)
	}
}

// only is g with just the families named, for a golden file that holds
// what one test is about rather than the whole scrape.
func only(g prometheus.Gatherer, names ...string) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := g.Gather()
		return slices.DeleteFunc(mfs, func(mf *dto.MetricFamily) bool { return !slices.Contains(names, mf.GetName()) }), err
	})
}
