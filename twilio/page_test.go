package twilio

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

func decodeFile(t *testing.T, path string) ([]kinds.Object, Meta) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	got, meta, err := decodeAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return got, meta
}

// decodeAll decodes a page, keeping a copy of every profile.
func decodeAll(r io.Reader) ([]kinds.Object, Meta, error) {
	var got []kinds.Object
	meta, err := DecodePage(r, kinds.CustomerProfiles, func(p *kinds.Object) error {
		c := *p
		c.ErrorCodes = slices.Clone(p.ErrorCodes)
		c.Anomalies = slices.Clone(p.Anomalies)
		got = append(got, c)
		return nil
	})
	return got, meta, err
}

func sameProfile(a, b kinds.Object) bool {
	if a.Strings != b.Strings || a.Has != b.Has {
		return false
	}
	for _, f := range kinds.AllFields {
		if a.Has.Has(f) && a.Numbers[f] != b.Numbers[f] {
			return false
		}
	}
	return slices.Equal(a.ErrorCodes, b.ErrorCodes) && slices.Equal(a.Anomalies, b.Anomalies)
}

// with sets fields of o from field, value pairs: a string for a String
// field, a time.Time for a Time one, an int for an Integer one.
func with(o kinds.Object, pairs ...any) kinds.Object {
	for i := 0; i+1 < len(pairs); i += 2 {
		f := pairs[i].(kinds.Field)
		switch v := pairs[i+1].(type) {
		case string:
			o.Strings[f] = v
		case time.Time:
			o.Numbers[f] = float64(v.Unix()) + float64(v.Nanosecond())/1e9
			o.Has.Add(f)
		case int:
			o.Numbers[f] = float64(v)
			o.Has.Add(f)
		}
	}
	return o
}

// The example answer of the API reference.
func TestDecodeReferencePage(t *testing.T) {
	got, meta := decodeFile(t, "testdata/page-reference.json")
	want := with(kinds.Object{ErrorCodes: []int64{18601}},
		kinds.FieldSID, "BUaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		kinds.FieldFriendlyName, "friendly_name",
		kinds.FieldPolicySID, "RNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		kinds.FieldStatus, "twilio-approved",
		kinds.FieldValidUntil, time.Date(2020, 7, 31, 1, 0, 0, 0, time.UTC),
		kinds.FieldDateCreated, time.Date(2019, 7, 30, 22, 29, 24, 0, time.UTC),
		kinds.FieldDateUpdated, time.Date(2019, 7, 31, 1, 9, 0, 0, time.UTC),
	)
	if len(got) != 1 {
		t.Fatalf("%d profiles, want 1", len(got))
	}
	if !sameProfile(got[0], want) {
		t.Errorf("profile:\n got %+v\nwant %+v", got[0], want)
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
	if p := got[0]; !sameProfile(p, kinds.Object{}) {
		t.Errorf("all-null profile decoded as %+v", p)
	}
	// {"code": null} and {} are items without a code: skipped, and said so.
	if p := got[1]; !slices.Equal(p.ErrorCodes, []int64{22215, 22216}) || !slices.Equal(p.Anomalies, []kinds.Field{kinds.FieldErrors, kinds.FieldErrors}) {
		t.Errorf("error codes = %v, anomalies = %v; want each code once: [22215 22216], two skipped items", p.ErrorCodes, p.Anomalies)
	}
	p := got[2]
	if p.Strings[kinds.FieldStatus] != "twilio-suspended" || p.Strings[kinds.FieldFriendlyName] != "Ünïcode ☎ \"quoted\"" || len(p.Anomalies) != 0 {
		t.Errorf("profile 3 = %+v", p)
	}
	if want := with(kinds.Object{}, kinds.FieldValidUntil, time.Date(2027, 1, 1, 0, 0, 0, 5e8, time.UTC)); p.Numbers[kinds.FieldValidUntil] != want.Numbers[kinds.FieldValidUntil] {
		t.Errorf("valid_until = %f, want %f", p.Numbers[kinds.FieldValidUntil], want.Numbers[kinds.FieldValidUntil])
	}
}

// onePage wraps the JSON of one result in a page.
func onePage(result string) string {
	return `{"meta": {"next_page_url": null, "page_size": 50}, "results": [` + result + `]}`
}

var (
	day1 = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	// errItem is an anomaly of the errors list, short for the table.
	errItem = kinds.FieldErrors
)

// tolerated are results with odd values that cost the value, never the page:
// the result as JSON, and the profile it must give.
var tolerated = []struct {
	name, result string
	want         kinds.Object
}{
	// Error codes in every shape the API may use.
	{"code a number", `{"errors": [18601]}`, kinds.Object{ErrorCodes: []int64{18601}}},
	{"code with an exponent", `{"errors": [1.8601e4]}`, kinds.Object{ErrorCodes: []int64{18601}}},
	{"code with a zero fraction", `{"errors": [18601.0]}`, kinds.Object{ErrorCodes: []int64{18601}}},
	{"code a numeric string", `{"errors": ["18601"]}`, kinds.Object{ErrorCodes: []int64{18601}}},
	{"code object with a number", `{"errors": [{"code": 18601, "message": "m", "more_info": "u"}]}`, kinds.Object{ErrorCodes: []int64{18601}}},
	{"code object with a string", `{"errors": [{"code": "18601"}]}`, kinds.Object{ErrorCodes: []int64{18601}}},
	{"error_code object with a number", `{"errors": [{"error_code": 18601}]}`, kinds.Object{ErrorCodes: []int64{18601}}},
	{"error_code object with a string", `{"errors": [{"error_code": "30701", "fields": ["region"]}]}`, kinds.Object{ErrorCodes: []int64{30701}}},
	{"code before error_code", `{"errors": [{"code": 18601, "error_code": 30701}]}`, kinds.Object{ErrorCodes: []int64{18601}}},
	{"error_code when code is unusable", `{"errors": [{"code": null, "error_code": 30701}]}`, kinds.Object{ErrorCodes: []int64{30701}}},
	{"largest code", `{"errors": [2147483647]}`, kinds.Object{ErrorCodes: []int64{MaxErrorCode}}},
	{"each code once", `{"errors": [18601, "18601", {"code": 18601}, {"error_code": 18602}]}`, kinds.Object{ErrorCodes: []int64{18601, 18602}}},
	{"brackets and quotes inside strings", `{"errors": [{"message": "a]}\\\"[{,", "code": 18601}, "x\"]", 18602]}`,
		kinds.Object{ErrorCodes: []int64{18601, 18602}, Anomalies: []kinds.Field{errItem}}},
	{"white space everywhere", "{\"errors\": [ 18601 ,\n\t{ \"error_code\" : \"18602\" } , {\"code\"\r:18603}\n]}", kinds.Object{ErrorCodes: []int64{18601, 18602, 18603}}},
	{"nested values skipped whole", `{"errors": [{"fields": [{"code": 1}, [2]], "code": 18601}]}`, kinds.Object{ErrorCodes: []int64{18601}}},
	{"the last of a repeated key", `{"errors": [{"code": "x", "code": 18601}]}`, kinds.Object{ErrorCodes: []int64{18601}}},
	{"code string with escapes", `{"errors": ["\u0031\u0038601"]}`, kinds.Object{ErrorCodes: []int64{18601}}},
	{"errors null", `{"errors": null}`, kinds.Object{}},
	{"errors empty", `{"errors": [ ]}`, kinds.Object{}},

	// Items of any other shape are skipped, one anomaly each.
	{"item null", `{"errors": [null]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"item true", `{"errors": [true]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"item a list", `{"errors": [[18601]]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"item a word", `{"errors": ["rejected"]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"item an empty string", `{"errors": [""]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"item a string with a space", `{"errors": [" 18601"]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"item a string with an exponent", `{"errors": ["1.8601e4"]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"item a negative string", `{"errors": ["-18601"]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"item a fraction", `{"errors": [18601.5]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"item negative", `{"errors": [-18601]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"item zero", `{"errors": [0]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"item beyond the range", `{"errors": [2147483648]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"item beyond int64", `{"errors": [99999999999999999999]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"item beyond float64", `{"errors": [1e400]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"object without a code", `{"errors": [{"message": "18601"}]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"object with an empty code", `{"errors": [{}]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"keys are not case-folded", `{"errors": [{"Code": 18601}]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"object with a code object", `{"errors": [{"code": {"code": 18601}}]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"object with a word", `{"errors": [{"code": "x", "error_code": false}]}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"odd items among good ones", `{"errors": [18601, null, "x", {"code": 18602}, 18601]}`, kinds.Object{ErrorCodes: []int64{18601, 18602}, Anomalies: []kinds.Field{errItem, errItem}}},
	{"errors an object", `{"errors": {"code": 18601}}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"errors a string", `{"errors": "18601"}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"errors a number", `{"errors": 18601}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},
	{"errors false", `{"errors": false}`, kinds.Object{Anomalies: []kinds.Field{errItem}}},

	// Dates: RFC 3339 or null; anything else leaves the date absent.
	{"valid_until with an offset", `{"valid_until": "2027-01-01T02:00:00+02:00"}`, with(kinds.Object{}, kinds.FieldValidUntil, day1)},
	{"valid_until a word", `{"valid_until": "tomorrow"}`, kinds.Object{Anomalies: []kinds.Field{kinds.FieldValidUntil}}},
	{"valid_until empty", `{"valid_until": ""}`, kinds.Object{Anomalies: []kinds.Field{kinds.FieldValidUntil}}},
	{"valid_until without a zone", `{"valid_until": "2027-01-01T00:00:00"}`, kinds.Object{Anomalies: []kinds.Field{kinds.FieldValidUntil}}},
	{"valid_until a number", `{"valid_until": 1798761600}`, kinds.Object{Anomalies: []kinds.Field{kinds.FieldValidUntil}}},
	{"date_updated an object", `{"date_updated": {"at": "2027-01-01T00:00:00Z"}}`, kinds.Object{Anomalies: []kinds.Field{kinds.FieldDateUpdated}}},
	{"date_updated RFC 2822", `{"date_updated": "Fri, 01 Jan 2027 00:00:00 +0000"}`, kinds.Object{Anomalies: []kinds.Field{kinds.FieldDateUpdated}}},

	// Strings: a string or null; anything else is skipped as null.
	{"status a number", `{"sid": "BU1", "status": 5}`, with(kinds.Object{Anomalies: []kinds.Field{kinds.FieldStatus}}, kinds.FieldSID, "BU1")},
	{"status a list", `{"status": ["draft"]}`, kinds.Object{Anomalies: []kinds.Field{kinds.FieldStatus}}},
	{"sid a number", `{"sid": 1, "status": "draft"}`, with(kinds.Object{Anomalies: []kinds.Field{kinds.FieldSID}}, kinds.FieldStatus, "draft")},
	{"friendly_name an object", `{"friendly_name": {"name": "x"}}`, kinds.Object{Anomalies: []kinds.Field{kinds.FieldFriendlyName}}},
	{"policy_sid true", `{"policy_sid": true}`, kinds.Object{Anomalies: []kinds.Field{kinds.FieldPolicySID}}},
	{"friendly_name with escapes", `{"friendly_name": "\u00dcber \"Q\"\n"}`, with(kinds.Object{}, kinds.FieldFriendlyName, "Über \"Q\"\n")},
	{"friendly_name not UTF-8", "{\"friendly_name\": \"a\xffb\"}", with(kinds.Object{}, kinds.FieldFriendlyName, "a\ufffdb")},
	{"duplicate key: the last counts", `{"status": 5, "status": "draft"}`, with(kinds.Object{}, kinds.FieldStatus, "draft")},

	// Everything odd at once: anomalies in field order, the profile still counts.
	{"every field odd", `{"errors": [null, {}], "date_updated": 1, "valid_until": "x", "status": {}, "policy_sid": 2, "friendly_name": [], "sid": false}`,
		kinds.Object{Anomalies: []kinds.Field{kinds.FieldSID, kinds.FieldFriendlyName, kinds.FieldPolicySID, kinds.FieldStatus, kinds.FieldValidUntil, kinds.FieldDateUpdated, errItem, errItem}}},
}

func TestDecodeTolerates(t *testing.T) {
	for _, tc := range tolerated {
		t.Run(tc.name, func(t *testing.T) {
			got, meta, err := decodeAll(strings.NewReader(onePage(tc.result)))
			if err != nil {
				t.Fatalf("the page failed: %v", err)
			}
			if len(got) != 1 || meta.PageSize != 50 {
				t.Fatalf("%d profiles, meta %+v; want 1 profile and the meta", len(got), meta)
			}
			if !sameProfile(got[0], tc.want) {
				t.Errorf("\n got %+v\nwant %+v", got[0], tc.want)
			}
		})
	}
}

// One odd profile leaves the others as they are, and the buffers reused
// between profiles carry nothing over.
func TestDecodeOddProfileAmongOthers(t *testing.T) {
	body := `{"results": [
		{"sid": "BU1", "status": "twilio-rejected", "errors": [{"code": 18601}, {"code": 18602}], "valid_until": "2027-01-01T00:00:00Z"},
		{"sid": "BU2", "status": 7, "errors": ["18603", null], "valid_until": "soon"},
		{"sid": "BU3", "status": "draft"}
	], "meta": {"next_page_url": null}}`
	got, _, err := decodeAll(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []kinds.Object{
		with(kinds.Object{ErrorCodes: []int64{18601, 18602}}, kinds.FieldSID, "BU1", kinds.FieldStatus, "twilio-rejected", kinds.FieldValidUntil, day1),
		with(kinds.Object{ErrorCodes: []int64{18603}, Anomalies: []kinds.Field{kinds.FieldStatus, kinds.FieldValidUntil, kinds.FieldErrors}}, kinds.FieldSID, "BU2"),
		with(kinds.Object{}, kinds.FieldSID, "BU3", kinds.FieldStatus, "draft"),
	}
	if len(got) != len(want) {
		t.Fatalf("%d profiles, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameProfile(got[i], want[i]) {
			t.Errorf("profile %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// rejected are bodies that are not a page: the listing fails on them.
var rejected = []struct {
	name, body, want string
}{
	{"not json", `<html>oops</html>`, "decoding the page: jsontext: invalid character"},
	{"a list", `[]`, "decoding the page: not an object"},
	{"truncated", `{"meta": {"next_page_url": null}, "results": [{"sid": "BU1"`, "decoding results[0]: jsontext: unexpected EOF"},
	{"truncated in an errors list", `{"meta": {}, "results": [{"errors": [18601, `, "decoding results[0]: jsontext: unexpected EOF"},
	{"truncated after results", `{"results": [], "meta": {`, "decoding meta: jsontext: unexpected EOF"},
	{"truncated before the end", `{"meta": {}, "results": []`, "decoding page: jsontext: unexpected EOF"},
	{"broken inside a profile", `{"meta": {}, "results": [{"errors": [18601,]}]}`, "decoding results[0]: jsontext: invalid character"},
	{"no meta", `{"results": []}`, "decoding page: no meta object"},
	{"no results", `{"meta": {"next_page_url": null}}`, "decoding page: no results list"},
	{"results not a list", `{"meta": {}, "results": {"sid": "BU1"}}`, "decoding results: not a list"},
	{"results null", `{"meta": {}, "results": null}`, "decoding results: not a list"},
	{"results a string", `{"meta": {}, "results": "[]"}`, "decoding results: not a list"},
	{"meta not an object", `{"meta": "x", "results": []}`, "decoding meta: not an object"},
	{"meta null", `{"meta": null, "results": []}`, "decoding meta: not an object"},
	{"null profile", `{"meta": {}, "results": [null]}`, "decoding results[0]: null instead of an object"},
	{"profile a string", `{"meta": {}, "results": [{"sid": "BU1"}, "BU2"]}`, "decoding results[1]: a string instead of an object"},
	{"profile a number", `{"meta": {}, "results": [18601]}`, "decoding results[0]: a number instead of an object"},
	{"profile a list", `{"meta": {}, "results": [[]]}`, "decoding results[0]: a list instead of an object"},
	{"next_page_url a number", `{"meta": {"next_page_url": 3}, "results": []}`, "decoding meta: json: cannot unmarshal number"},
	{"empty", ``, "decoding the page: EOF"},
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range rejected {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodePage(strings.NewReader(tc.body), kinds.CustomerProfiles, func(*kinds.Object) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// The error of fn stops the page and comes back as it is.
func TestDecodeStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := DecodePage(strings.NewReader(`{"meta": {}, "results": [{}, {}, {}]}`), kinds.CustomerProfiles, func(*kinds.Object) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("err = %v after %d profiles, want %v after 2", err, n, stop)
	}
}

// FuzzDecodePage's seeds are every page the tests above decode, tolerated or
// rejected, and each tolerated result on its own, so that mutations start
// from each odd shape and each broken one rather than only from what a
// large page mutates into.
func FuzzDecodePage(f *testing.F) {
	for _, path := range []string{"testdata/page-reference.json", "testdata/page-nulls.json"} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, tc := range tolerated {
		f.Add([]byte(onePage(tc.result)))
		f.Add([]byte(tc.result))
	}
	for _, tc := range rejected {
		f.Add([]byte(tc.body))
	}
	// The decoder must never panic; whatever it accepts must hold each error
	// code once, every code in range, and only known fields as anomalies.
	check := func(t *testing.T, p *kinds.Object) {
		for i, c := range p.ErrorCodes {
			if c < 1 || c > MaxErrorCode {
				t.Fatalf("code %d out of range", c)
			}
			if slices.Contains(p.ErrorCodes[:i], c) {
				t.Fatalf("code %d twice in %v", c, p.ErrorCodes)
			}
		}
		for _, a := range p.Anomalies {
			if a >= kinds.NumFields {
				t.Fatalf("anomaly of unknown field %d", a)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = DecodePage(bytes.NewReader(body), kinds.CustomerProfiles, func(p *kinds.Object) error {
			check(t, p)
			return nil
		})
		// And the promise of tolerance: any JSON object as a result, however
		// odd its values, is a profile and never fails its page.
		if !json.Valid(body) || !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) {
			return
		}
		n := 0
		_, err := DecodePage(strings.NewReader(onePage(string(body))), kinds.CustomerProfiles, func(p *kinds.Object) error {
			n++
			check(t, p)
			return nil
		})
		if err != nil || n != 1 {
			t.Fatalf("a result that is a JSON object gave %d profiles and failed its page: %v", n, err)
		}
	})
}

// eachElement is only handed checked JSON, but it must end, without a
// panic, on anything: it walks bytes without checking them again.
func TestEachElementEndsOnAnything(t *testing.T) {
	for _, b := range []string{`[`, `{`, `[1`, `{"a"`, `{"a" 1}`, `{"a":`, `[1,,]`, `["open`, `[{"a": [}`, `{:}`, `[::]`, "[\x00]"} {
		n := 0
		eachElement([]byte(b), func(_, v []byte) {
			if n++; n > len(b) {
				t.Fatalf("%q: more elements than bytes", b)
			}
		})
	}
}

// The decoder reads the list under the kind's list key and the status
// under the kind's status field, so a kind declared with other keys (as
// the Messaging kinds will be) needs no other code.
func TestDecodeFollowsTheKind(t *testing.T) {
	other := *kinds.TrustProducts
	other.ListKey, other.StatusField = "data", "campaign_status"
	for _, tc := range []struct {
		name, body string
		kind       *kinds.Kind
		want       []kinds.Object
		err        string
	}{
		{"trust products", `{"meta": {}, "results": [{"sid": "BU1", "status": "twilio-approved", "errors": [{"error_code": 30701}]}]}`, kinds.TrustProducts,
			[]kinds.Object{with(kinds.Object{ErrorCodes: []int64{30701}}, kinds.FieldSID, "BU1", kinds.FieldStatus, "twilio-approved")}, ""},
		{"another list key", `{"data": [{"sid": "BN1", "campaign_status": "FAILED", "status": "x"}], "meta": {}}`, &other,
			[]kinds.Object{with(kinds.Object{}, kinds.FieldSID, "BN1", kinds.FieldStatus, "FAILED")}, ""},
		{"the list under another key is not read", `{"meta": {}, "results": [], "data": [{"sid": "BN1"}]}`, kinds.CustomerProfiles, nil, ""},
		{"no list under the kind's key", `{"meta": {}, "results": []}`, &other, nil, "decoding page: no data list"},
		{"keys fold as in encoding/json", `{"meta": {}, "results": [{"SID": "BU1", "Status": "draft", "st\u0061tus": "in-review"}]}`, kinds.CustomerProfiles,
			[]kinds.Object{with(kinds.Object{}, kinds.FieldSID, "BU1", kinds.FieldStatus, "in-review")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []kinds.Object
			_, err := DecodePage(strings.NewReader(tc.body), tc.kind, func(p *kinds.Object) error {
				got = append(got, with(kinds.Object{ErrorCodes: slices.Clone(p.ErrorCodes)}, kinds.FieldSID, p.SID(), kinds.FieldStatus, p.Strings[kinds.FieldStatus]))
				return nil
			})
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if !sameProfile(got[i], tc.want[i]) {
					t.Errorf("object %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// The Messaging kinds' objects as the API reference shows them, and their
// loose spots: error_code items, a single error_code in any tolerated form,
// brand_score as a whole number or null, labels, dates.
func TestDecodeMessaging(t *testing.T) {
	at := time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)
	type obj struct {
		sid, status string
		labels      []string
		codes       []int64
		score       int64
		hasScore    bool
		edit        time.Time
		anomalies   []kinds.Field
	}
	for _, tc := range []struct {
		name, body string
		kind       *kinds.Kind
		want       []obj
	}{
		{"brand", `{"meta": {"key": "data"}, "data": [{"sid": "BN1", "status": "SUSPENDED", "brand_type": "STANDARD", "identity_status": "VERIFIED",
			"tcr_id": "BXXXX", "a2p_profile_bundle_sid": "BU1", "customer_profile_bundle_sid": "BU2", "brand_score": 42,
			"errors": [{"error_code": 30990, "description": "halted", "url": "u", "fields": []}, {"code": "30701"}, 30702, "x"]}]}`,
			kinds.BrandRegistrations,
			[]obj{{"BN1", "SUSPENDED", []string{"STANDARD", "VERIFIED", "BXXXX", "BU1", "BU2"}, []int64{30990, 30701, 30702}, 42, true, time.Time{}, []kinds.Field{kinds.FieldErrors}}}},
		{"brand score null, zero, odd", `{"meta": {}, "data": [{"sid": "BN1", "brand_score": null}, {"sid": "BN2", "brand_score": 0}, {"sid": "BN3", "brand_score": "42"}, {"sid": "BN4", "brand_score": 4.5}]}`,
			kinds.BrandRegistrations,
			[]obj{{sid: "BN1", labels: make([]string, 5)}, {sid: "BN2", labels: make([]string, 5), hasScore: true},
				{sid: "BN3", labels: make([]string, 5), anomalies: []kinds.Field{kinds.FieldBrandScore}},
				{sid: "BN4", labels: make([]string, 5), anomalies: []kinds.Field{kinds.FieldBrandScore}}}},
		{"campaign", `{"compliance": [{"sid": "QE1", "campaign_status": "FAILED", "status": "ignored", "messaging_service_sid": "MG1", "brand_registration_sid": "BN1",
			"campaign_id": "CX", "us_app_to_person_usecase": "MARKETING", "errors": [{"error_code": 30897}]}], "meta": {}}`,
			kinds.A2PCampaigns,
			[]obj{{"QE1", "FAILED", []string{"MG1", "BN1", "CX", "MARKETING"}, []int64{30897}, 0, false, time.Time{}, nil}}},
		{"toll-free", `{"meta": {}, "verifications": [
			{"sid": "HH1", "status": "TWILIO_REJECTED", "error_code": 30445, "edit_expiration": "2026-12-10T00:00:00Z", "tollfree_phone_number": "+18335550100",
			 "business_name": "Acme", "trust_product_sid": "BU1", "customer_profile_sid": "BU2", "business_contact_email": "a@example.com", "errors": [{"code": 1}]},
			{"sid": "HH2", "error_code": "30446", "edit_expiration": null},
			{"sid": "HH3", "error_code": null},
			{"sid": "HH4", "error_code": [30445]},
			{"sid": "HH5", "error_code": "soon", "edit_expiration": "tomorrow"}]}`,
			kinds.TollfreeVerifications,
			[]obj{
				{"HH1", "TWILIO_REJECTED", []string{"+18335550100", "Acme", "BU1", "BU2"}, []int64{30445}, 0, false, at, nil},
				{sid: "HH2", labels: make([]string, 4), codes: []int64{30446}},
				{sid: "HH3", labels: make([]string, 4)},
				{sid: "HH4", labels: make([]string, 4), anomalies: []kinds.Field{kinds.FieldErrors}},
				{sid: "HH5", labels: make([]string, 4), anomalies: []kinds.Field{kinds.FieldEditExpiration, kinds.FieldErrors}},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []obj
			_, err := DecodePage(strings.NewReader(tc.body), tc.kind, func(p *kinds.Object) error {
				var labels []string
				for _, f := range tc.kind.InfoLabels {
					labels = append(labels, p.Strings[f])
				}
				score, hasScore := p.Value(kinds.FieldBrandScore)
				var edit time.Time
				if secs, ok := p.Value(kinds.FieldEditExpiration); ok {
					edit = time.Unix(int64(secs), 0)
				}
				got = append(got, obj{p.SID(), p.Strings[kinds.FieldStatus], labels, slices.Clone(p.ErrorCodes), int64(score), hasScore, edit, slices.Clone(p.Anomalies)})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i, g := range got {
				w := tc.want[i]
				if g.sid != w.sid || g.status != w.status || !slices.Equal(g.labels, w.labels) || !slices.Equal(g.codes, w.codes) ||
					g.score != w.score || g.hasScore != w.hasScore || !g.edit.Equal(w.edit) || !slices.Equal(g.anomalies, w.anomalies) {
					t.Errorf("object %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}
