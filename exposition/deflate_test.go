package exposition

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
)

// crc32Combine gives the CRC of two parts joined, whatever their lengths,
// empty parts included.
func TestCRC32Combine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2)) //nolint:gosec // test data, not a secret
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for _, split := range [][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}, {3, 7}, {1000, 1}, {1, 1000}, {12345, 54321}, {1 << 19, 1 << 19}, {0, 1 << 20}, {1 << 20, 0}} {
		a, b := data[:split[0]], data[split[0]:split[0]+split[1]]
		got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(len(b)))
		if want := crc32.ChecksumIEEE(data[:split[0]+split[1]]); got != want {
			t.Errorf("%d then %d bytes: %08x, want %08x", split[0], split[1], got, want)
		}
	}
}

// A gzip member spliced from compressed writes and kept blocks, in any
// order, empty ones included, reads back as the bytes joined, through the
// standard library's reader, which checks the CRC and the length.
func TestGzipSplice(t *testing.T) {
	block := func(s string) *deflated {
		d, err := deflateBlock(func(w io.Writer) error { _, err := io.WriteString(w, s); return err })
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	big := strings.Repeat("twilio_trusthub_customer_profile_info{account=\"a\",sid=\"BU1\"} 1\n", 20000)
	// A part is written plainly unless it starts with '>', which keeps it.
	for _, parts := range [][]string{
		nil,
		{"plain only\n"},
		{">kept only\n"},
		{"", ">", ""},
		{"head\n", ">" + big, "tail\n"},
		{">" + big, ">" + big, "after two blocks\n" + big},
		{big, ">x\n", big, ">y\n"},
	} {
		var wire bytes.Buffer
		g := newGzipWriter(&wire)
		var want strings.Builder
		for _, p := range parts {
			if kept, ok := strings.CutPrefix(p, ">"); ok {
				if err := g.writeDeflated(block(kept)); err != nil {
					t.Fatal(err)
				}
				want.WriteString(kept)
				continue
			}
			if _, err := io.WriteString(g, p); err != nil {
				t.Fatal(err)
			}
			want.WriteString(p)
		}
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := gzip.NewReader(&wire)
		if err != nil {
			t.Fatalf("%d parts: %v", len(parts), err)
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%d parts: %v", len(parts), err)
		}
		if string(got) != want.String() {
			t.Errorf("%d parts: read %d bytes, want %d", len(parts), len(got), want.Len())
		}
	}
}

// Through Respond, a kept block reads the same gzipped or not, on a miss
// and on a hit, and a hit renders nothing.
func TestCacheRespond(t *testing.T) {
	var c Cache[int]
	f := NewFamily("x", "X.", Gauge)
	renders := 0
	key := new(int)
	before, after := NewFamily("before_total", "B.", Counter), NewFamily("after", "A.", Gauge)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = Respond(w, r, func(e *Encoder) {
			e.Family(before)
			e.Add(1)
			c.Write(e, "k", []*int{key}, func(e *Encoder) {
				renders++
				e.Family(f)
				for i := range 5000 {
					e.Add(float64(i), "i", fmt.Sprint(i))
				}
			})
			e.Family(after)
			e.Add(2)
		})
	})
	get := func(accept, encoding string) string {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept", accept)
		req.Header.Set("Accept-Encoding", encoding)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		if rec.Header().Get("Content-Encoding") == "gzip" {
			r, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(r); err != nil {
				t.Fatal(err)
			}
		} else if encoding == "gzip" {
			t.Fatal("gzip asked for, not given")
		}
		return string(body)
	}
	for _, format := range []expfmt.Format{expfmt.FmtText, expfmt.FmtOpenMetrics_1_0_0} {
		accept := string(format)
		first := get(accept, "gzip")
		for _, encoding := range []string{"gzip", "identity", "gzip"} {
			if got := get(accept, encoding); got != first {
				t.Errorf("%s, %s: differs from the first answer", format, encoding)
			}
		}
		if !strings.Contains(first, `x{i="4999"} 4999`) || !strings.Contains(first, "\nbefore_total 1") || !strings.Contains(first, "\nafter 2") {
			t.Errorf("%s: unexpected answer %.200q", format, first)
		}
	}
	if renders != 2 {
		t.Errorf("%d renders for two formats, want 2", renders)
	}
}
