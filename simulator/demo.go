package simulator

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/kinds"
)

// Demo is a simulator serving generated accounts on a loopback port.
type Demo struct {
	*Server
	URL      string
	srv      *http.Server
	accounts []config.Account
}

// DemoAccounts names the demo's accounts and how many Customer-Profiles,
// Trust Products and brands (as many toll-free verifications, and half as
// many Messaging Services) each has.
var DemoAccounts = []struct {
	Name                            string
	Profiles, TrustProducts, Brands int
}{
	{"demo", 2000, 300, 40},
	{"demo-subaccount", 350, 40, 9},
}

// DemoISV is the demo's parent account, whose subaccounts are discovered
// rather than configured: DemoSubaccounts of them, each a customer with
// its own token and DemoSubaccountProfiles Customer-Profiles.
const (
	DemoISV                = "demo-isv"
	DemoSubaccounts        = 4
	DemoSubaccountProfiles = 60
)

// DemoSubaccountSID is the SID of the demo's i-th discovered subaccount.
func DemoSubaccountSID(i int) string { return fmt.Sprintf("AC%032x", 0x5b00+i) }

// StartDemo serves the demo accounts on 127.0.0.1, each with a random auth
// token.
func StartDemo(now time.Time) (*Demo, error) {
	sim := New()
	var accounts []config.Account
	for i, a := range DemoAccounts {
		sid := fmt.Sprintf("AC%032x", 0xde30+i)
		token := rand.Text()
		profiles := Generate(sid, a.Profiles, now, uint64(i+1))
		if i == 0 {
			plantHostileName(profiles, now)
		}
		sim.AddAccount(sid, token, profiles)
		sim.SetAssignments(sid, kinds.CustomerProfiles, GenerateAssignments(kinds.CustomerProfiles, profiles, now, uint64(i+1)))
		trustProducts := GenerateTrustProducts(sid, a.TrustProducts, now, uint64(i+1))
		sim.SetObjects(sid, kinds.TrustProducts, trustProducts)
		sim.SetAssignments(sid, kinds.TrustProducts, GenerateAssignments(kinds.TrustProducts, trustProducts, now, uint64(i+1)))
		m := GenerateMessaging(a.Brands, now, uint64(i+1), trustProducts)
		LinkProfiles(&m, profiles)
		sim.SetMessaging(sid, m)
		accounts = append(accounts, config.Account{Name: a.Name, AccountSID: sid, AuthToken: promconfig.Secret(token)})
	}
	isv := fmt.Sprintf("AC%032x", 0xde30+len(DemoAccounts))
	isvToken := rand.Text()
	sim.AddAccount(isv, isvToken, nil)
	for i := range DemoSubaccounts {
		sub := DemoSubaccountSID(i)
		sim.AddSubaccount(isv, sub, fmt.Sprintf("demo-customer-%d", i+1), rand.Text())
		subProfiles := Generate(sub, DemoSubaccountProfiles, now, uint64(100+i))
		sim.SetObjects(sub, kinds.CustomerProfiles, subProfiles)
		sim.SetAssignments(sub, kinds.CustomerProfiles, GenerateAssignments(kinds.CustomerProfiles, subProfiles, now, uint64(100+i)))
	}
	discover := config.DefaultSubaccounts()
	discover.Discover, discover.FriendlyName = true, "demo-customer-*"
	accounts = append(accounts, config.Account{Name: DemoISV, AccountSID: isv, AuthToken: promconfig.Secret(isvToken), Subaccounts: &discover})
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &Demo{Server: sim, URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}, accounts: accounts}
	// Serve returns when Close is called; nothing else stops a loopback listener.
	go func() { _ = d.srv.Serve(ln) }()
	return d, nil
}

// HostileName is the friendly name the demo gives its most recently
// rejected profile: markup that would run as a script if any page showed
// it unescaped. Names are typed by Twilio's customers; the demo shows that
// they stay text.
const HostileName = "<script>alert(1)</script>"

// plantHostileName renames the first rejected profile and makes it the
// most recently updated, so that the status page lists it first.
func plantHostileName(profiles []ServedObject, now time.Time) {
	for i := range profiles {
		if p := &profiles[i]; p.Status != nil && *p.Status == "twilio-rejected" {
			p.FriendlyName = Ptr(HostileName)
			p.DateUpdated = Ptr(now.Add(-time.Hour).Truncate(time.Second))
			return
		}
	}
}

// Config returns the configuration that lists the demo: the defaults, with
// api_url, messaging_api_url and accounts_api_url pointing at the
// simulator. Each call
// returns a new one.
func (d *Demo) Config() (*config.Config, error) {
	spec := config.Default()
	spec.APIURL, spec.MessagingAPIURL, spec.AccountsAPIURL = d.URL, d.URL, d.URL
	spec.Accounts = append([]config.Account(nil), d.accounts...)
	cfg, err := config.New(spec)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return cfg, nil
}

// Close stops the demo server.
func (d *Demo) Close() error { return d.srv.Close() }
