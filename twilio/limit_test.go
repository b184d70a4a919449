package twilio

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

// An answer is read through a size limit: a server that never stops
// sending cannot exhaust memory.
func TestPageSizeLimit(t *testing.T) {
	chunk := bytes.Repeat([]byte(`{"sid":"BU1","status":"draft"},`), 1<<12)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"meta":{},"results":[`))
		for sent := 0; sent <= 1<<20; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL, PageSize: 1000, MaxPageBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.List(context.Background(), kinds.CustomerProfiles, kinds.Filters{}, func(*kinds.Object) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "answer larger than 1048576 bytes") {
		t.Fatalf("error = %v, want the size limit", err)
	}
}
