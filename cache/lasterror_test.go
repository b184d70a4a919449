package cache

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
)

// The last failure's words and time stay readable after a recovery, for
// the status page; up follows the last listing alone.
func TestLastError(t *testing.T) {
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var failWith error
	list := func(context.Context) (*snapshot.Snapshot, error) {
		if failWith != nil {
			return nil, failWith
		}
		return snapshot.NewBuilder(kinds.CustomerProfiles, false).Done(), nil
	}
	a := NewEntry(context.Background(), "main", list, Options{
		TTL: time.Minute, MaxStale: time.Hour, Timeout: time.Second, Now: func() time.Time { return at },
	})
	for i, step := range []struct {
		fail      error
		wantUp    bool
		wantError string
		wantTime  time.Time
	}{
		{nil, true, "", time.Time{}},
		{errors.New("TrustHub answered HTTP 503"), false, "TrustHub answered HTTP 503", at.Add(2 * time.Minute)},
		{nil, true, "TrustHub answered HTTP 503", at.Add(2 * time.Minute)},
		{errors.New("TrustHub answered HTTP 429"), false, "TrustHub answered HTTP 429", at.Add(6 * time.Minute)},
	} {
		failWith = step.fail
		st := a.Get(context.Background()) // each step is past the TTL or the backoff: it lists
		if st.Up != step.wantUp || st.LastError != step.wantError || !st.LastErrorTime.Equal(step.wantTime) {
			t.Errorf("step %d: up %v, last error %q at %s; want %v, %q at %s", i, st.Up, st.LastError, st.LastErrorTime, step.wantUp, step.wantError, step.wantTime)
		}
		at = at.Add(2 * time.Minute)
	}
}
