package exposition

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

// libraryEncoders are expfmt's own writers of one family, in the formats
// written here directly.
var libraryEncoders = []struct {
	name   string
	format expfmt.Format
	enc    func(io.Writer, *dto.MetricFamily) (int, error)
}{
	{"text", expfmt.FmtText, expfmt.MetricFamilyToText},
	{"OpenMetrics", expfmt.FmtOpenMetrics_1_0_0, func(w io.Writer, mf *dto.MetricFamily) (int, error) {
		return expfmt.MetricFamilyToOpenMetrics(w, mf)
	}},
}

// A one-series family, of either type, value, labels and HELP included,
// is what expfmt writes, in both text formats.
func TestOneSeriesMatchesExpfmt(t *testing.T) {
	helps := []string{"plain.", `a "quoted" word, a \ backslash`, "a\nnewline"}
	values := []float64{1, 0, math.Copysign(0, -1), -1, 0.5, 1234, -1234, 1.7957808e+09, 1e21, 1e-7, 123456789,
		math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN()}
	labelSets := [][]string{nil, {"a", `v"\` + "\n"}, {"a", "", "b", "Ünïcode ☎"}}
	for _, typ := range []Type{Gauge, Counter} {
		for _, help := range helps {
			for _, labels := range labelSets {
				for _, v := range values {
					f := NewFamily("x_y_total", help, typ)
					mf := &dto.MetricFamily{Name: ptr("x_y_total"), Help: ptr(help), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{}}}
					if typ == Counter {
						mf.Type = dto.MetricType_COUNTER.Enum()
						mf.Metric[0].Counter = &dto.Counter{Value: ptr(v)}
					} else {
						mf.Metric[0].Gauge = &dto.Gauge{Value: ptr(v)}
					}
					for i := 0; i < len(labels); i += 2 {
						mf.Metric[0].Label = append(mf.Metric[0].Label, &dto.LabelPair{Name: ptr(labels[i]), Value: ptr(labels[i+1])})
					}
					for _, tc := range libraryEncoders {
						var got, want bytes.Buffer
						e := NewEncoder(&got, tc.format)
						e.Family(f)
						e.Add(v, labels...)
						if err := e.Close(); err != nil {
							t.Fatal(err)
						}
						if _, err := tc.enc(&want, mf); err != nil {
							t.Fatal(err)
						}
						if tc.format == expfmt.FmtOpenMetrics_1_0_0 {
							want.WriteString("# EOF\n")
						}
						if got.String() != want.String() {
							t.Errorf("%s, type %d, help %q, labels %q, value %v:\n got %q\nwant %q", tc.name, typ, help, labels, v, got.String(), want.String())
						}
					}
				}
			}
		}
	}
}

// families writes a few families, one without series, in name order, with
// series in the order a registry sorts them: what Gather must return and
// every format must encode as expfmt does.
func families(e *Encoder) {
	a := NewFamily("a_errors_total", "Errors, by reason.", Counter)
	b := NewFamily("b_empty", "Never a series: never written.", Gauge)
	c := NewFamily("c_objects", `Objects, by "status".`, Gauge)
	e.Family(a)
	e.Add(0, "account", "one", "reason", "auth")
	e.Add(3, "account", "one", "reason", "server")
	e.Add(1, "account", "two", "reason", "auth")
	e.Family(b)
	e.Family(c)
	for i := range 3000 { // past a flush and a slab
		e.Add(float64(i), "account", "one", "sid", fmt.Sprintf("BU%05d", i), "status", "ok")
	}
}

// Families written series by series are encoded as expfmt encodes the
// same families gathered, byte for byte, in every format offered; Gather
// returns those families; and families encoded through expfmt come first,
// with one "# EOF" at the end of OpenMetrics.
func TestEncoderMatchesExpfmt(t *testing.T) {
	gathered := Gather(families)
	if got := names(gathered); strings.Join(got, " ") != "a_errors_total c_objects" {
		t.Fatalf("Gather returned %q", got)
	}
	if n := len(gathered[1].Metric); n != 3000 {
		t.Fatalf("c_objects has %d series, want 3000", n)
	}
	pre := &dto.MetricFamily{Name: ptr("go_goroutines"), Help: ptr("Goroutines."), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: ptr(7.0)}}}}
	for _, format := range Offered {
		var want bytes.Buffer
		lib := expfmt.NewEncoder(&want, format)
		for _, mf := range append([]*dto.MetricFamily{pre}, gathered...) {
			if err := lib.Encode(mf); err != nil {
				t.Fatal(err)
			}
		}
		if c, ok := lib.(expfmt.Closer); ok {
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		}
		var got bytes.Buffer
		e := NewEncoder(&got, format)
		e.Encode(pre)
		families(e)
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: %d bytes differ from expfmt's %d:\n got %.600q\nwant %.600q", format, got.Len(), want.Len(), got.String(), want.String())
		}
	}
	// Protobuf compared as messages too, as a scraper reads them.
	var got bytes.Buffer
	e := NewEncoder(&got, expfmt.FmtProtoDelim)
	families(e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	dec := expfmt.NewDecoder(&got, expfmt.FmtProtoDelim)
	for i := 0; ; i++ {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); errors.Is(err, io.EOF) {
			if i != len(gathered) {
				t.Errorf("%d families decoded, want %d", i, len(gathered))
			}
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(&mf, gathered[i]) {
			t.Errorf("family %d (%s) differs from the one gathered", i, mf.GetName())
		}
	}
}

// A writer that fails stops the encoder: Close returns its error.
func TestEncoderWriteError(t *testing.T) {
	boom := errors.New("gone")
	for _, format := range Offered {
		e := NewEncoder(failingWriter{boom}, format)
		families(e)
		if err := e.Close(); !errors.Is(err, boom) {
			t.Errorf("%s: Close returned %v, want %v", format, err, boom)
		}
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// A declaration that the writers could not write as expfmt does is
// refused.
func TestNewFamilyRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  Type
	}{{"a-b", Gauge}, {"x.y", Gauge}, {"9x", Gauge}, {"x_count", Counter}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewFamily(%q, %d) did not panic", tc.name, tc.typ)
				}
			}()
			NewFamily(tc.name, "help", tc.typ)
		}()
	}
}

// The block of a Cache is rendered once per format for one key and set of
// values, again when either changes, and forgotten when a value is
// collected; protobuf is not kept.
func TestCache(t *testing.T) {
	var c Cache[int]
	renders := 0
	f := NewFamily("x", "X.", Gauge)
	write := func(e *Encoder) {
		renders++
		e.Family(f)
		e.Add(float64(renders))
	}
	out := func(format expfmt.Format, key any, deps ...*int) string {
		var b bytes.Buffer
		e := NewEncoder(&b, format)
		c.Write(e, key, deps, write)
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	one := new(int)
	two := new(int)
	steps := []struct {
		format  expfmt.Format
		key     any
		deps    []*int
		renders int
		want    string
	}{
		{expfmt.FmtText, "k", []*int{one, nil}, 1, "# HELP x X.\n# TYPE x gauge\nx 1\n"},
		{expfmt.FmtText, "k", []*int{one, nil}, 1, "# HELP x X.\n# TYPE x gauge\nx 1\n"},
		{expfmt.FmtOpenMetrics_1_0_0, "k", []*int{one, nil}, 2, "# HELP x X.\n# TYPE x gauge\nx 2.0\n# EOF\n"},
		{expfmt.FmtText, "k", []*int{one, two}, 3, "# HELP x X.\n# TYPE x gauge\nx 3\n"},
		{expfmt.FmtText, "other", []*int{one, two}, 4, "# HELP x X.\n# TYPE x gauge\nx 4\n"},
		{expfmt.FmtOpenMetrics_1_0_0, "k", []*int{one, nil}, 4, "# HELP x X.\n# TYPE x gauge\nx 2.0\n# EOF\n"},
		{expfmt.FmtProtoDelim, "k", []*int{one, nil}, 5, ""},
		{expfmt.FmtProtoDelim, "k", []*int{one, nil}, 6, ""},
	}
	for i, s := range steps {
		got := out(s.format, s.key, s.deps...)
		if renders != s.renders {
			t.Errorf("step %d: %d renders, want %d", i, renders, s.renders)
		}
		if s.want != "" && got != s.want {
			t.Errorf("step %d: wrote %q, want %q", i, got, s.want)
		}
	}
	// The text block was rendered from one and two, and keeps neither
	// alive: once nothing else holds two, it is collected.
	collected := make(chan struct{})
	runtime.AddCleanup(two, func(ch chan struct{}) { close(ch) }, collected)
	runtime.KeepAlive(one)
	for range 50 {
		runtime.GC()
		select {
		case <-collected:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Error("the kept block kept alive a value it was rendered from")
}

func names(mfs []*dto.MetricFamily) []string {
	var out []string
	for _, mf := range mfs {
		out = append(out, mf.GetName())
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// Negotiate picks the scraper's preferred format among those offered.
func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]expfmt.FormatType{
		"": expfmt.TypeTextPlain,
		"application/openmetrics-text;version=1.0.0":                                                 expfmt.TypeOpenMetrics,
		"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited": expfmt.TypeProtoDelim,
		"application/json": expfmt.TypeTextPlain,
	} {
		h := http.Header{}
		if accept != "" {
			h.Set("Accept", accept)
		}
		if got := Negotiate(h).FormatType(); got != want {
			t.Errorf("Accept %q: %v, want %v", accept, got, want)
		}
	}
}
