package simulator

import (
	"fmt"
	"testing"
	"time"
)

// The estate's subaccounts are listed under the parent, each reachable
// with its own token: every tenth with problems, the others with three
// approved profiles.
func TestSubaccountEstate(t *testing.T) {
	s := New()
	s.AddAccount(sid, token, nil)
	s.AddSubaccountEstate(sid, 12, 10, time.Now())
	_, body := as(t, s, AccountsPath+"?PageSize=50", sid, token)
	tokens := map[string]string{}
	for _, a := range body["accounts"].([]any) {
		m := a.(map[string]any)
		tokens[m["sid"].(string)] = m["auth_token"].(string)
	}
	if len(tokens) != 13 {
		t.Fatalf("%d accounts listed, want the parent and 12", len(tokens))
	}
	for i := range 12 {
		sub := EstateSubaccountSID(i)
		_, page := as(t, s, "/v1/CustomerProfiles?PageSize=1000", sub, tokens[sub])
		statuses := map[string]int{}
		for _, p := range page["results"].([]any) {
			statuses[p.(map[string]any)["status"].(string)]++
		}
		problems := i%10 == 0
		if got := fmt.Sprint(statuses); problems && statuses["twilio-rejected"] == 0 || !problems && got != "map[twilio-approved:3]" {
			t.Errorf("customer-%04d: profiles %s", i, got)
		}
		_, brands := as(t, s, "/v1/a2p/BrandRegistrations", sub, tokens[sub])
		if n := len(brands["data"].([]any)); problems != (n > 0) {
			t.Errorf("customer-%04d: %d brands", i, n)
		}
	}
}
