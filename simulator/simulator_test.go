package simulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
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
