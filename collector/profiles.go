package collector

import (
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/snapshot"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/trusthub"
)

// The per-profile series are several per profile: 77,000 for 10,000
// profiles. Built as const metrics and gathered by client_golang, a scrape
// of them took over half a second and 64 MB of garbage (see the benchmark).
// So they are written straight from the snapshot in the Prometheus text
// format (0.0.4), line by line into the response: nothing per series is
// allocated, and nothing is kept between scrapes. A test holds the output
// to what client_golang's own encoder writes for the same series.

// Family names of the per-profile series.
const (
	InfoName       = namespace + "_customer_profile_info"
	StatusName     = namespace + "_customer_profile_status"
	ValidUntilName = namespace + "_customer_profile_valid_until_timestamp_seconds"
	UpdatedName    = namespace + "_customer_profile_updated_timestamp_seconds"
	ErrorInfoName  = namespace + "_customer_profile_error_info"
)

type profileFamily struct {
	name, help string
	// write appends the family's lines for one profile to b.
	write func(b []byte, account string, p *snapshot.Profile) []byte
}

var profileFamilies = []profileFamily{
	{InfoName, "Always 1: one series per Customer-Profile, naming it." + cached,
		func(b []byte, account string, p *snapshot.Profile) []byte {
			b = appendSeries(b, InfoName, "account", account, "friendly_name", p.FriendlyName, "policy_sid", p.PolicySID, "sid", p.SID)
			return appendValue(b, 1)
		}},
	{StatusName, "1 for the Customer-Profile's status, 0 for each other documented status." + cached,
		func(b []byte, account string, p *snapshot.Profile) []byte {
			documented := false
			for _, st := range trusthub.Statuses {
				v := 0.0
				if st == p.Status {
					v, documented = 1, true
				}
				b = appendValue(appendSeries(b, StatusName, "account", account, "sid", p.SID, "status", st), v)
			}
			if !documented {
				b = appendValue(appendSeries(b, StatusName, "account", account, "sid", p.SID, "status", p.Status), 1)
			}
			return b
		}},
	{ValidUntilName, "The Customer-Profile's valid_until as Unix time; absent when null." + cached,
		func(b []byte, account string, p *snapshot.Profile) []byte {
			if !p.HasValidUntil {
				return b
			}
			return appendValue(appendSeries(b, ValidUntilName, "account", account, "sid", p.SID), p.ValidUntil)
		}},
	{UpdatedName, "The Customer-Profile's date_updated as Unix time; absent when null." + cached,
		func(b []byte, account string, p *snapshot.Profile) []byte {
			if !p.HasUpdated {
				return b
			}
			return appendValue(appendSeries(b, UpdatedName, "account", account, "sid", p.SID), p.Updated)
		}},
	{ErrorInfoName, "Always 1: one series per code in the Customer-Profile's errors list." + cached,
		func(b []byte, account string, p *snapshot.Profile) []byte {
			for _, c := range p.ErrorCodes {
				// appendSeries by hand, so the code needs no string.
				b = append(b, ErrorInfoName+`{account="`...)
				b = appendEscaped(b, account, true)
				b = append(b, `",code="`...)
				b = strconv.AppendInt(b, c, 10)
				b = append(b, `",sid="`...)
				b = appendEscaped(b, p.SID, true)
				b = appendValue(append(b, `"}`...), 1)
			}
			return b
		}},
}

// flushAt is how much is gathered before it is written out.
const flushAt = 32 << 10

// WriteProfiles writes the per-profile series of every account whose
// snapshot the scrape serves, in the Prometheus text format. It writes
// nothing when per_profile_metrics is off.
func (s *Scrape) WriteProfiles(w io.Writer) error {
	if !s.e.perProfile {
		return nil
	}
	b := make([]byte, 0, flushAt+4<<10)
	for _, f := range profileFamilies {
		header := false
		for i, a := range s.e.accounts {
			snap := s.states[i].Snapshot
			if snap == nil {
				continue
			}
			name := a.Cache.Name()
			for j := range snap.Profiles {
				p := &snap.Profiles[j]
				if p.SID == "" {
					// Without a sid the series of two such profiles would
					// collide; they are still in the counts.
					continue
				}
				n := len(b)
				if !header {
					b = appendHeader(b, f.name, f.help)
				}
				m := len(b)
				if b = f.write(b, name, p); len(b) == m {
					b = b[:n] // no series: no header either, yet
					continue
				}
				header = true
				if len(b) >= flushAt {
					if _, err := w.Write(b); err != nil {
						return err
					}
					b = b[:0]
				}
			}
		}
	}
	_, err := w.Write(b)
	return err
}

// appendHeader appends a family's HELP and TYPE lines.
func appendHeader(b []byte, name, help string) []byte {
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = appendEscaped(b, help, false)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	return append(b, " gauge\n"...)
}

// appendSeries appends a series name and its labels, given as name, value
// pairs in label-name order.
func appendSeries(b []byte, name string, labels ...string) []byte {
	b = append(b, name...)
	b = append(b, '{')
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, labels[i]...)
		b = append(b, `="`...)
		b = appendEscaped(b, labels[i+1], true)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendValue appends " value\n" as the text format writes floats.
func appendValue(b []byte, v float64) []byte {
	b = append(b, ' ')
	switch {
	case math.IsNaN(v):
		b = append(b, "NaN"...)
	case math.IsInf(v, 1):
		b = append(b, "+Inf"...)
	case math.IsInf(v, -1):
		b = append(b, "-Inf"...)
	default:
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return append(b, '\n')
}

// appendEscaped escapes as the text format does: a backslash and a newline
// always, a double quote inside label values.
func appendEscaped(b []byte, s string, quote bool) []byte {
	if !strings.ContainsAny(s, "\\\n\"") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}
