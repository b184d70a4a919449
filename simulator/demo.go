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
)

// Demo is a simulator serving generated accounts on a loopback port.
type Demo struct {
	*Server
	URL      string
	srv      *http.Server
	accounts []config.Account
}

// DemoAccounts names the demo's accounts and how many profiles each has.
var DemoAccounts = []struct {
	Name     string
	Profiles int
}{
	{"demo", 2000},
	{"demo-subaccount", 350},
}

// StartDemo serves the demo accounts on 127.0.0.1, each with a random auth
// token.
func StartDemo(now time.Time) (*Demo, error) {
	sim := New()
	var accounts []config.Account
	for i, a := range DemoAccounts {
		sid := fmt.Sprintf("AC%032x", 0xde30+i)
		token := rand.Text()
		sim.AddAccount(sid, token, Generate(sid, a.Profiles, now, uint64(i+1)))
		accounts = append(accounts, config.Account{Name: a.Name, AccountSID: sid, AuthToken: promconfig.Secret(token)})
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &Demo{Server: sim, URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}, accounts: accounts}
	// Serve returns when Close is called; nothing else stops a loopback listener.
	go func() { _ = d.srv.Serve(ln) }()
	return d, nil
}

// Config returns the configuration that lists the demo: the defaults, with
// api_url pointing at the simulator. Each call returns a new one.
func (d *Demo) Config() (*config.Config, error) {
	cfg := config.Default()
	cfg.APIURL = d.URL
	cfg.Accounts = append([]config.Account(nil), d.accounts...)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return cfg, nil
}

// Close stops the demo server.
func (d *Demo) Close() error { return d.srv.Close() }
