package trusthub

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func decodeFile(t *testing.T, path string) ([]Profile, Meta) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var got []Profile
	meta, err := DecodePage(f, func(p *Profile) error {
		c := *p
		c.ErrorCodes = slices.Clone(p.ErrorCodes)
		got = append(got, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, meta
}

// The example answer of the API reference.
func TestDecodeReferencePage(t *testing.T) {
	got, meta := decodeFile(t, "testdata/page-reference.json")
	want := Profile{
		SID:          "BUaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		FriendlyName: "friendly_name",
		PolicySID:    "RNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		Status:       "twilio-approved",
		ValidUntil:   time.Date(2020, 7, 31, 1, 0, 0, 0, time.UTC),
		DateUpdated:  time.Date(2019, 7, 31, 1, 9, 0, 0, time.UTC),
		ErrorCodes:   []int64{18601},
	}
	if len(got) != 1 {
		t.Fatalf("%d profiles, want 1", len(got))
	}
	p := got[0]
	if p.SID != want.SID || p.FriendlyName != want.FriendlyName || p.PolicySID != want.PolicySID || p.Status != want.Status ||
		!p.ValidUntil.Equal(want.ValidUntil) || !p.DateUpdated.Equal(want.DateUpdated) || !slices.Equal(p.ErrorCodes, want.ErrorCodes) {
		t.Errorf("profile:\n got %+v\nwant %+v", p, want)
	}
	if meta.NextPageURL != "" || meta.PageSize != 50 {
		t.Errorf("meta = %+v", meta)
	}
}

// Every field may be null; codes count once; unknown keys are skipped.
func TestDecodeNulls(t *testing.T) {
	got, _ := decodeFile(t, "testdata/page-nulls.json")
	if len(got) != 3 {
		t.Fatalf("%d profiles, want 3", len(got))
	}
	if p := got[0]; p.SID != "" || p.Status != "" || !p.ValidUntil.IsZero() || !p.DateUpdated.IsZero() || len(p.ErrorCodes) != 0 {
		t.Errorf("all-null profile decoded as %+v", p)
	}
	if p := got[1]; !slices.Equal(p.ErrorCodes, []int64{22215, 22216}) {
		t.Errorf("error codes = %v, want each non-null code once: [22215 22216]", p.ErrorCodes)
	}
	p := got[2]
	if p.Status != "twilio-suspended" || p.FriendlyName != "Ünïcode ☎ \"quoted\"" {
		t.Errorf("profile 3 = %+v", p)
	}
	if want := time.Date(2027, 1, 1, 0, 0, 0, 5e8, time.UTC); !p.ValidUntil.Equal(want) {
		t.Errorf("valid_until = %s, want %s", p.ValidUntil, want)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"not json", `<html>oops</html>`, "decoding the page: invalid character"},
		{"a list", `[]`, "decoding the page: not an object"},
		{"truncated", `{"meta": {"next_page_url": null}, "results": [{"sid": "BU1"`, "decoding results[0]: unexpected EOF"},
		{"truncated after results", `{"results": [], "meta": {`, "decoding meta: unexpected EOF"},
		{"no meta", `{"results": []}`, "decoding page: no meta object"},
		{"no results", `{"meta": {"next_page_url": null}}`, "decoding page: no results list"},
		{"results not a list", `{"meta": {}, "results": {"sid": "BU1"}}`, "decoding results: not a list"},
		{"results null", `{"meta": {}, "results": null}`, "decoding results: not a list"},
		{"meta not an object", `{"meta": "x", "results": []}`, "decoding meta: not an object"},
		{"null profile", `{"meta": {}, "results": [null]}`, "decoding results[0]: null instead of a profile"},
		{"bad date", `{"meta": {}, "results": [{"sid": "BU1", "valid_until": "tomorrow"}]}`, "decoding results[0]: parsing time"},
		{"status a number", `{"meta": {}, "results": [{"status": 5}]}`, "decoding results[0]: json: cannot unmarshal number"},
		{"code a string", `{"meta": {}, "results": [{"errors": [{"code": "x"}]}]}`, "decoding results[0]: json: cannot unmarshal string"},
		{"next_page_url a number", `{"meta": {"next_page_url": 3}, "results": []}`, "decoding meta: json: cannot unmarshal number"},
		{"empty", ``, "decoding the page: EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodePage(strings.NewReader(tc.body), func(*Profile) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func FuzzDecodePage(f *testing.F) {
	for _, path := range []string{"testdata/page-reference.json", "testdata/page-nulls.json"} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"meta":{},"results":[null]}`))
	// The decoder must never panic, and whatever it accepts must hold each
	// error code once.
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = DecodePage(strings.NewReader(string(body)), func(p *Profile) error {
			seen := map[int64]bool{}
			for _, c := range p.ErrorCodes {
				if seen[c] {
					t.Fatalf("code %d twice in %v", c, p.ErrorCodes)
				}
				seen[c] = true
			}
			return nil
		})
	})
}
