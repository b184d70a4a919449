package snapshot

import (
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/objtest"
	"slices"
	"testing"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

func TestAnomalies(t *testing.T) {
	var (
		errs  = kinds.FieldErrors
		until = kinds.FieldValidUntil
	)
	for _, tc := range []struct {
		name     string
		profiles []kinds.Object
		byField  map[kinds.Field]int
		examples []Anomaly
	}{
		{name: "none", profiles: []kinds.Object{objtest.New("sid", "BU1"), objtest.New("sid", "BU2")}},
		{
			name: "one profile, two fields",
			profiles: []kinds.Object{
				objtest.New("sid", "BU1"),
				objtest.New("sid", "BU2", "anomalies", []kinds.Field{until, errs, errs}),
			},
			byField:  map[kinds.Field]int{until: 1, errs: 2},
			examples: []Anomaly{{"BU2", until}, {"BU2", errs}, {"BU2", errs}},
		},
		{
			name: "a repeated sid counts once; a missing sid counts each time",
			profiles: []kinds.Object{
				objtest.New("sid", "BU1", "anomalies", []kinds.Field{errs}),
				objtest.New("sid", "BU1", "anomalies", []kinds.Field{errs}),
				objtest.New("anomalies", []kinds.Field{kinds.FieldSID}),
				objtest.New("anomalies", []kinds.Field{kinds.FieldSID}),
			},
			byField:  map[kinds.Field]int{errs: 1, kinds.FieldSID: 2},
			examples: []Anomaly{{"BU1", errs}, {"", kinds.FieldSID}, {"", kinds.FieldSID}},
		},
		{
			name: "examples are bounded, counts are not",
			profiles: []kinds.Object{
				objtest.New("sid", "BU1", "anomalies", []kinds.Field{errs, errs, errs, errs}),
				objtest.New("sid", "BU2", "anomalies", []kinds.Field{until, until, until}),
			},
			byField:  map[kinds.Field]int{errs: 4, until: 3},
			examples: []Anomaly{{"BU1", errs}, {"BU1", errs}, {"BU1", errs}, {"BU1", errs}, {"BU2", until}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBuilder(kinds.CustomerProfiles, false)
			for i := range tc.profiles {
				_ = b.Add(&tc.profiles[i])
			}
			s := b.Done()
			got := b.Anomalies() // after Done, as after a failed listing
			total := 0
			for _, f := range kinds.AllFields {
				if got.ByField[f] != tc.byField[f] {
					t.Errorf("%s: %d, want %d", f, got.ByField[f], tc.byField[f])
				}
				total += tc.byField[f]
			}
			if got.Total != total {
				t.Errorf("total %d, want %d", got.Total, total)
			}
			if !slices.Equal(got.Examples, tc.examples) {
				t.Errorf("examples %v, want %v", got.Examples, tc.examples)
			}
			// A profile with an odd value is still counted.
			if want := len(tc.profiles) - s.Duplicates; s.Total != want {
				t.Errorf("%d profiles counted, want %d", s.Total, want)
			}
		})
	}
}

// What Anomalies returns does not change when the builder goes on.
func TestAnomaliesCopy(t *testing.T) {
	b := NewBuilder(kinds.CustomerProfiles, false)
	p1 := objtest.New("sid", "BU1", "anomalies", []kinds.Field{kinds.FieldStatus})
	_ = b.Add(&p1)
	first := b.Anomalies()
	first.Examples[0].SID = "changed"
	p2 := objtest.New("sid", "BU2", "anomalies", []kinds.Field{kinds.FieldErrors})
	_ = b.Add(&p2)
	if got := b.Anomalies(); got.Examples[0].SID != "BU1" || got.Total != 2 || first.Total != 1 {
		t.Errorf("anomalies = %+v after a copy was changed; the copy = %+v", got, first)
	}
}
