package simulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

const (
	sid   = "AC0123456789abcdef0123456789abcdef"
	token = "sim-token"
)

func get(t *testing.T, s *Server, target string, auth bool) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	if auth {
		r.SetBasicAuth(sid, token)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s: body is not JSON: %v\n%s", target, err, w.Body)
	}
	return w.Code, body
}

// Errors come in Twilio's shape: {code, message, more_info, status}.
func TestErrors(t *testing.T) {
	s := New()
	s.AddAccount(sid, token, nil)
	for _, tc := range []struct {
		target string
		auth   bool
		status int
		code   float64
	}{
		{"/v1/CustomerProfiles", false, 401, 20003},
		{"/v1/TrustProducts", false, 401, 20003},
		{"/v1/TrustProducts?PageSize=0", true, 400, 20001},
		{"/v1/CustomerProfiles?PageSize=0", true, 400, 20001},
		{"/v1/CustomerProfiles?PageSize=1001", true, 400, 20001},
		{"/v1/CustomerProfiles?PageToken=bogus", true, 400, 20001},
		{"/v1/Other", true, 404, 20404},
	} {
		status, body := get(t, s, tc.target, tc.auth)
		if status != tc.status || body["code"] != tc.code || body["status"] != float64(tc.status) ||
			body["message"] == "" || body["more_info"] == nil {
			t.Errorf("%s: HTTP %d, body %v; want HTTP %d with code %v", tc.target, status, body, tc.status, tc.code)
		}
	}
}

// Paging follows the reference: meta.next_page_url until null, Page counting up.
func TestPaging(t *testing.T) {
	s := New()
	s.AddAccount(sid, token, Generate(sid, 5, time.Now(), 1))
	target := "http://example.test/v1/CustomerProfiles?PageSize=2"
	var pages, profiles int
	for target != "" {
		u, _ := url.Parse(target)
		status, body := get(t, s, u.RequestURI(), true)
		if status != 200 {
			t.Fatalf("HTTP %d", status)
		}
		meta := body["meta"].(map[string]any)
		if meta["page"] != float64(pages) || meta["page_size"] != float64(2) || meta["key"] != "results" {
			t.Errorf("page %d: meta %v", pages, meta)
		}
		profiles += len(body["results"].([]any))
		pages++
		target, _ = meta["next_page_url"].(string)
	}
	if pages != 3 || profiles != 5 {
		t.Errorf("%d pages, %d profiles; want 3 and 5", pages, profiles)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	a, _ := json.Marshal(Generate(sid, 50, now, 7))
	b, _ := json.Marshal(Generate(sid, 50, now, 7))
	if string(a) != string(b) {
		t.Error("the same seed and time gave different profiles")
	}
}

func TestParseListRequest(t *testing.T) {
	for _, tc := range []struct {
		query   string
		want    listRequest
		wantErr string
	}{
		{"", listRequest{pageSize: 50}, ""},
		{"PageSize=1000&Page=3&PageToken=PT120", listRequest{pageSize: 1000, page: 3, offset: 120, token: "PT120"}, ""},
		{"Status=draft&FriendlyName=Acme+Dental&PolicySid=RN1", listRequest{pageSize: 50, filter: filter{"draft", "Acme Dental", "RN1"}}, ""},
		{"PageSize=0", listRequest{}, "Invalid PageSize: must be between 1 and 1000"},
		{"PageSize=1001", listRequest{}, "Invalid PageSize: must be between 1 and 1000"},
		{"PageSize=ten", listRequest{}, "Invalid PageSize: must be between 1 and 1000"},
		{"Page=-1", listRequest{}, "Invalid Page"},
		{"Page=x", listRequest{}, "Invalid Page"},
		{"PageToken=5", listRequest{}, "Invalid PageToken"},
		{"PageToken=PT", listRequest{}, "Invalid PageToken"},
		{"PageToken=PT-5", listRequest{}, "Invalid PageToken"},
		// PageSize is checked first, as the API reports one error.
		{"PageSize=0&PageToken=bogus", listRequest{}, "Invalid PageSize: must be between 1 and 1000"},
	} {
		q, _ := url.ParseQuery(tc.query)
		got, err := parseListRequest(q)
		switch {
		case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
			t.Errorf("%q: error %v, want %q", tc.query, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("%q: %+v, %v; want %+v", tc.query, got, err, tc.want)
		}
	}
}

// Following next_page_url through a filtered listing yields exactly the
// profiles that match, in order, each once, whatever the page size.
func TestFilteredPaging(t *testing.T) {
	profiles := Generate(sid, 40, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), 5)
	s := New()
	s.AddAccount(sid, token, profiles)
	named := *profiles[3].FriendlyName
	policy := *profiles[0].PolicySID
	for _, tc := range []struct {
		name  string
		query url.Values
		match func(p ServedObject) bool
	}{
		{"none", url.Values{}, func(ServedObject) bool { return true }},
		{"status", url.Values{"Status": {"twilio-approved"}}, func(p ServedObject) bool { return deref(p.Status) == "twilio-approved" }},
		{"friendly name", url.Values{"FriendlyName": {named}}, func(p ServedObject) bool { return deref(p.FriendlyName) == named }},
		{"policy and status", url.Values{"PolicySid": {policy}, "Status": {"twilio-rejected"}}, func(p ServedObject) bool {
			return deref(p.PolicySID) == policy && deref(p.Status) == "twilio-rejected"
		}},
		{"matching nothing", url.Values{"Status": {"no-such-status"}}, func(ServedObject) bool { return false }},
	} {
		var want []string
		for _, p := range profiles {
			if tc.match(p) {
				want = append(want, *p.SID)
			}
		}
		for _, size := range []int{1, 3, 1000} {
			t.Run(tc.name+"/PageSize="+strconv.Itoa(size), func(t *testing.T) {
				q := url.Values{}
				for k, v := range tc.query {
					q[k] = v
				}
				q.Set("PageSize", strconv.Itoa(size))
				target := "/v1/CustomerProfiles?" + q.Encode()
				var got []string
				pages := 0
				for target != "" {
					status, body := get(t, s, target, true)
					if status != http.StatusOK {
						t.Fatalf("%s: HTTP %d", target, status)
					}
					for _, r := range body["results"].([]any) {
						got = append(got, r.(map[string]any)["sid"].(string))
					}
					pages++
					next, _ := body["meta"].(map[string]any)["next_page_url"].(string)
					if next == "" {
						break
					}
					u, err := url.Parse(next)
					if err != nil || u.Query().Get("Status") != tc.query.Get("Status") || u.Query().Get("PolicySid") != tc.query.Get("PolicySid") {
						t.Fatalf("next_page_url %q drops the filters", next)
					}
					target = u.RequestURI()
				}
				if !slices.Equal(got, want) {
					t.Errorf("listed %v, want %v", got, want)
				}
				if wantPages := max(1, (len(want)+size-1)/size); pages != wantPages {
					t.Errorf("%d pages, want %d", pages, wantPages)
				}
			})
		}
	}
}
