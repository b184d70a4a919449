package snapshot

import (
	"slices"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

// MaxAnomalyExamples bounds how many skipped values a listing names (by sid
// and field) for its log line: enough to find the objects, bounded however
// odd the listing.
const MaxAnomalyExamples = 5

// Anomaly names one value the decoder skipped: which object, which field.
// The value itself is never kept: it could be personal data.
type Anomaly struct {
	SID   string
	Field kinds.Field
}

// Anomalies tallies the values the decoder skipped in one listing (see
// kinds.Object.Anomalies), over the objects the listing
// counted: a result skipped as a repeat of an earlier sid adds nothing.
type Anomalies struct {
	// ByField counts skipped values, indexed by kinds.Field.
	ByField [kinds.NumFields]int
	// Total is the sum of ByField.
	Total int
	// Examples are the first of them, at most MaxAnomalyExamples.
	Examples []Anomaly
}

func (a *Anomalies) add(p *kinds.Object) {
	for _, f := range p.Anomalies {
		a.ByField[f]++
		a.Total++
		if len(a.Examples) < MaxAnomalyExamples {
			a.Examples = append(a.Examples, Anomaly{SID: p.SID(), Field: f})
		}
	}
}

// Anomalies returns what the listing skipped so far. It may be called
// whether or not the listing completed, also after Done: the values a
// failed listing skipped were seen all the same.
func (b *Builder) Anomalies() Anomalies {
	a := b.anomalies
	a.Examples = slices.Clone(a.Examples)
	return a
}
