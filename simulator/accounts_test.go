package simulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

const (
	subA = "AC000000000000000000000000000000a1"
	subB = "AC000000000000000000000000000000b2"
)

func as(t *testing.T, s *Server, target, user, pass string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.SetBasicAuth(user, pass)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s: body is not JSON: %v\n%s", target, err, w.Body)
	}
	return w.Code, body
}

func subaccounts(t *testing.T) *Server {
	t.Helper()
	s := New()
	s.AddAccount(sid, token, nil)
	s.AddSubaccount(sid, subA, "cust-a", "token-a")
	s.AddSubaccount(sid, subB, "cust-b", "token-b")
	s.SetObjects(subA, kinds.CustomerProfiles, []ServedObject{{SID: Ptr("BUa"), Status: Ptr("draft")}})
	return s
}

// The list has the 2010 API's shape: the paging keys at the top level,
// relative; the parent in it; each subaccount's own token; RFC 2822 dates.
func TestAccountsList(t *testing.T) {
	s := subaccounts(t)
	code, body := as(t, s, AccountsPath+"?PageSize=2", sid, token)
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, body)
	}
	for _, key := range []string{"accounts", "page", "page_size", "start", "end", "uri", "first_page_uri", "next_page_uri", "previous_page_uri"} {
		if _, ok := body[key]; !ok {
			t.Errorf("no %s", key)
		}
	}
	next, _ := body["next_page_uri"].(string)
	if next == "" || next[0] != '/' {
		t.Fatalf("next_page_uri = %v, want a relative path", body["next_page_uri"])
	}
	var sids, tokens []string
	collect := func(body map[string]any) {
		for _, a := range body["accounts"].([]any) {
			m := a.(map[string]any)
			sids = append(sids, m["sid"].(string))
			tokens = append(tokens, m["auth_token"].(string))
			if _, err := time.Parse(time.RFC1123Z, m["date_created"].(string)); err != nil {
				t.Errorf("date_created: %v", err)
			}
			if m["owner_account_sid"] != sid {
				t.Errorf("owner_account_sid = %v", m["owner_account_sid"])
			}
		}
	}
	collect(body)
	_, body = as(t, s, next, sid, token)
	collect(body)
	if body["next_page_uri"] != nil || body["previous_page_uri"] == nil {
		t.Errorf("last page: next %v, previous %v", body["next_page_uri"], body["previous_page_uri"])
	}
	if want := []string{sid, subA, subB}; !slices.Equal(sids, want) {
		t.Errorf("sids = %v, want %v", sids, want)
	}
	if want := []string{token, "token-a", "token-b"}; !slices.Equal(tokens, want) {
		t.Errorf("tokens = %v", tokens)
	}

	// Filters, and a subaccount sees itself only.
	_, body = as(t, s, AccountsPath+"?FriendlyName=cust-b", sid, token)
	if got := body["accounts"].([]any); len(got) != 1 || got[0].(map[string]any)["sid"] != subB {
		t.Errorf("FriendlyName filter: %v", got)
	}
	s.SetAccountStatus(subB, "suspended")
	_, body = as(t, s, AccountsPath+"?Status=suspended", sid, token)
	if got := body["accounts"].([]any); len(got) != 1 || got[0].(map[string]any)["status"] != "suspended" {
		t.Errorf("Status filter: %v", got)
	}
	_, body = as(t, s, AccountsPath, subA, "token-a")
	if got := body["accounts"].([]any); len(got) != 1 || got[0].(map[string]any)["sid"] != subA {
		t.Errorf("a subaccount lists %v, want itself", got)
	}
}

// Each subaccount authenticates with its own token only, sees only its
// own objects, and not at all once closed.
func TestSubaccountTokens(t *testing.T) {
	s := subaccounts(t)
	path := kinds.CustomerProfiles.ListPath
	for _, tc := range []struct {
		name, user, pass string
		code, objects    int
	}{
		{"own token", subA, "token-a", 200, 1},
		{"another subaccount's token", subA, "token-b", 401, 0},
		{"the parent's token", subA, token, 401, 0},
		{"other subaccount", subB, "token-b", 200, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := as(t, s, path, tc.user, tc.pass)
			if code != tc.code {
				t.Fatalf("status %d, want %d", code, tc.code)
			}
			if code == 200 && len(body["results"].([]any)) != tc.objects {
				t.Errorf("%d objects, want %d", len(body["results"].([]any)), tc.objects)
			}
		})
	}
	s.SetAccountStatus(subA, "closed")
	if code, _ := as(t, s, path, subA, "token-a"); code != 401 {
		t.Errorf("a closed subaccount's token gets %d, want 401", code)
	}
}
