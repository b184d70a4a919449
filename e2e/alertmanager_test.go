package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/proctest"
)

// The example Alertmanager configuration, with its template, is valid to
// the shipped amtool.
func TestAlertmanagerExampleIsValid(t *testing.T) {
	amtool := tool(t, "amtool")
	out := run(t, filepath.Join(repo, "examples"), amtool, "check-config", "alertmanager.yml")
	if !strings.Contains(out, "1 templates") || !strings.Contains(out, "4 inhibit rules") {
		t.Errorf("amtool check-config did not read the template and the inhibitions:\n%s", out)
	}
}

// shippedAlerts returns every alert rule of the shipped rules file: its
// name and labels.
func shippedAlerts(t *testing.T) []map[string]string {
	t.Helper()
	var rf struct {
		Groups []struct {
			Rules []struct {
				Alert  string            `yaml:"alert"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(repo, "alerts", "twilio_trusthub.rules.yml"))), &rf); err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, map[string]string{"alertname": r.Alert, "severity": r.Labels["severity"]})
			}
		}
	}
	return out
}

// The routing tree sends every shipped alert where its severity says: a
// critical one to the pager, a warning to tickets; anything else (an
// alert from another source) to tickets.
func TestAlertmanagerRoutes(t *testing.T) {
	amtool := tool(t, "amtool")
	cases := shippedAlerts(t)
	if len(cases) < 25 {
		t.Fatalf("only %d alert rules in the shipped file", len(cases))
	}
	cases = append(cases, map[string]string{"alertname": "SomethingElse"}, map[string]string{"alertname": "Other", "severity": "info"})
	for _, labels := range cases {
		want := "tickets"
		if labels["severity"] == "critical" {
			want = "pager"
		}
		args := []string{"config", "routes", "test", "--config.file=alertmanager.yml", "--verify.receivers=" + want, "account=main", "sid=BU1"}
		for _, k := range slices.Sorted(maps.Keys(labels)) {
			if labels[k] != "" {
				args = append(args, k+"="+labels[k])
			}
		}
		cmd := exec.Command(amtool, args...)
		cmd.Dir = filepath.Join(repo, "examples")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%v: routed elsewhere than %s: %v\n%s", labels, want, err, out)
		}
	}
}

// amAlert is an alert as Alertmanager's API takes and gives it.
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	StartsAt    time.Time         `json:"startsAt,omitzero"`
	Status      *struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status,omitempty"`
}

// The example's inhibitions: Twilio unreachable stands for every
// account's listing alerts of its job; an account that cannot be listed
// for its stale data; a suspended brand for its campaigns; a page about an
// object for a ticket about the same object. Each only for what it
// explains.
func TestAlertmanagerInhibitions(t *testing.T) {
	amBin := tool(t, "prometheus-alertmanager", "alertmanager")
	dir := t.TempDir()
	// The template is found beside the configuration.
	writeFile(t, filepath.Join(dir, "alertmanager.yml"), readFile(t, filepath.Join(repo, "examples", "alertmanager.yml")))
	writeFile(t, filepath.Join(dir, "alertmanager.tmpl"), readFile(t, filepath.Join(repo, "examples", "alertmanager.tmpl")))
	addr := proctest.FreeAddr(t)
	start(t, "alertmanager", "http://"+addr+"/-/ready", amBin, "--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--cluster.listen-address=")

	type alert = map[string]string
	firing := []alert{
		{"alertname": "TwilioTrustHubAPIUnreachable", "severity": "warning", "job": "twilio_trusthub"},
		{"alertname": "TwilioTrustHubListingFailing", "severity": "warning", "job": "twilio_trusthub", "account": "a1", "instance": "r1"},
		{"alertname": "TwilioTrustHubListingFailing", "severity": "warning", "job": "other", "account": "a2", "instance": "r2"},
		{"alertname": "TwilioTrustHubDataStale", "severity": "warning", "job": "other", "account": "a2", "instance": "r2", "resource": "customer_profiles"},
		{"alertname": "TwilioTrustHubDataStale", "severity": "warning", "job": "other", "account": "a3", "instance": "r2", "resource": "customer_profiles"},
		{"alertname": "TwilioTrustHubA2PBrandSuspended", "severity": "critical", "account": "a1", "sid": "BN1", "brand_registration_sid": "BN1", "status": "SUSPENDED"},
		{"alertname": "TwilioTrustHubA2PCampaignNotVerified", "severity": "critical", "account": "a1", "sid": "QE1", "brand_registration_sid": "BN1", "messaging_service_sid": "MG1", "status": "SUSPENDED"},
		{"alertname": "TwilioTrustHubA2PCampaignNotVerified", "severity": "warning", "account": "a1", "sid": "QE2", "brand_registration_sid": "BN2", "messaging_service_sid": "MG2", "status": "FAILED"},
		{"alertname": "TwilioTrustHubTollfreeVerificationEditWindowClosing", "severity": "critical", "account": "a1", "sid": "HH1", "status": "TWILIO_REJECTED"},
		{"alertname": "TwilioTrustHubTollfreeVerificationRejected", "severity": "warning", "account": "a1", "sid": "HH1", "status": "TWILIO_REJECTED"},
		{"alertname": "TwilioTrustHubTollfreeVerificationRejected", "severity": "warning", "account": "a1", "sid": "HH2", "status": "TWILIO_REJECTED"},
		// A page without a sid (say ExporterDown made critical) is about
		// no object: it inhibits no ticket.
		{"alertname": "TwilioTrustHubExporterDown", "severity": "critical", "job": "twilio_trusthub"},
		{"alertname": "TwilioTrustHubDiscoveryFailing", "severity": "warning", "job": "other", "account": "a4", "instance": "r3"},
	}
	wantInhibited := map[string]bool{
		// APIUnreachable of job twilio_trusthub, not of job other.
		"TwilioTrustHubListingFailing a1": true,
		"TwilioTrustHubListingFailing a2": false,
		// ListingFailing of a2 on r2, not a3.
		"TwilioTrustHubDataStale a2": true,
		"TwilioTrustHubDataStale a3": false,
		// The suspended brand BN1 stands for QE1, not for QE2 of BN2.
		"TwilioTrustHubA2PCampaignNotVerified QE1": true,
		"TwilioTrustHubA2PCampaignNotVerified QE2": false,
		// The closing window of HH1 makes HH1's ticket redundant, not HH2's.
		"TwilioTrustHubTollfreeVerificationRejected HH1":          true,
		"TwilioTrustHubTollfreeVerificationRejected HH2":          false,
		"TwilioTrustHubDiscoveryFailing a4":                       false,
		"TwilioTrustHubAPIUnreachable ":                           false,
		"TwilioTrustHubA2PBrandSuspended BN1":                     false,
		"TwilioTrustHubExporterDown ":                             false,
		"TwilioTrustHubTollfreeVerificationEditWindowClosing HH1": false,
	}
	var post []amAlert
	for _, l := range firing {
		post = append(post, amAlert{Labels: l, StartsAt: time.Now()})
	}
	body, _ := json.Marshal(post)
	resp, err := http.Post("http://"+addr+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("posting alerts: %s", resp.Status)
	}
	// An alert is known by its object, or its account when it has none.
	key := func(l map[string]string) string {
		if l["sid"] != "" {
			return l["alertname"] + " " + l["sid"]
		}
		return l["alertname"] + " " + l["account"]
	}
	// Alertmanager settles inhibitions as alerts arrive: wait until what
	// it says matches, and say what does not if it never does.
	var mismatch []string
	for deadline := time.Now().Add(20 * time.Second); ; {
		got, err := amAlerts(addr)
		if err != nil {
			t.Fatal(err)
		}
		mismatch = nil
		for _, a := range got {
			inhibited := len(a.Status.InhibitedBy) > 0
			want, ok := wantInhibited[key(a.Labels)]
			switch {
			case !ok:
				t.Fatalf("no expectation for %q", key(a.Labels))
			case inhibited != want:
				mismatch = append(mismatch, fmt.Sprintf("%s inhibited: %v, want %v", key(a.Labels), inhibited, want))
			}
		}
		if len(got) == len(firing) && len(mismatch) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Alertmanager holds %d alerts of %d; inhibitions:\n%s", len(got), len(firing), strings.Join(mismatch, "\n"))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func amAlerts(addr string) ([]amAlert, error) {
	resp, err := http.Get("http://" + addr + "/api/v2/alerts")
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var out []amAlert
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// templateData is a notification of alerts of one group, as Alertmanager
// hands it to a template.
func templateData(t *testing.T, alerts []amAlert) string {
	t.Helper()
	type tmplAlert struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	}
	var as []tmplAlert
	for _, a := range alerts {
		as = append(as, tmplAlert{"firing", a.Labels, a.Annotations})
	}
	common := func(get func(amAlert) map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range get(alerts[0]) {
			same := true
			for _, a := range alerts[1:] {
				same = same && get(a)[k] == v
			}
			if same {
				out[k] = v
			}
		}
		return out
	}
	b, err := json.Marshal(map[string]any{
		"receiver": "pager", "status": "firing", "alerts": as,
		"groupLabels":       map[string]string{"alertname": alerts[0].Labels["alertname"], "account": alerts[0].Labels["account"]},
		"commonLabels":      common(func(a amAlert) map[string]string { return a.Labels }),
		"commonAnnotations": common(func(a amAlert) map[string]string { return a.Annotations }),
		"externalURL":       "http://alertmanager",
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "data.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// renderGroup renders a notification of alerts with the example template,
// as the example's chat receivers do.
func renderGroup(t *testing.T, alerts []amAlert) (title, text string) {
	t.Helper()
	amtool := tool(t, "amtool")
	out := run(t, ".", amtool, "template", "render", "--template.glob="+filepath.Join(repo, "examples", "alertmanager.tmpl"),
		"--template.data="+templateData(t, alerts), "--template.text="+`{{ template "twilio_trusthub.title" . }}`+"\n<<<>>>\n"+`{{ template "twilio_trusthub.text" . }}`)
	title, text, ok := strings.Cut(out, "\n<<<>>>\n")
	if !ok {
		t.Fatalf("amtool rendered:\n%s", out)
	}
	return title, text
}

// objectAlert is a firing object alert of account a1, as the shipped rules
// make them.
func objectAlert(i int, impact string) amAlert {
	return amAlert{
		Labels: map[string]string{"alertname": "TwilioTrustHubProfileRejected", "severity": "critical", "account": "AC1", "sid": fmt.Sprintf("BU%02d", i), "status": "twilio-rejected"},
		Annotations: map[string]string{
			"account": `subaccount "Acme" (AC1) of isv`, "name": fmt.Sprintf("Dental %02d", i), "error_codes": "22215, 22216", "impact": impact,
			"summary": fmt.Sprintf(`Twilio rejected Customer-Profile "Dental %02d"`, i), "description": fmt.Sprintf("The whole story of Dental %02d.", i),
			"runbook_url": "https://example.com/runbooks#twiliotrusthubprofilerejected", "console_url": "https://console.twilio.com/us1/account/trust-hub/customer-profiles",
		},
	}
}

// One notification says everything about its group: the account, and each
// object's name, SID, status, codes and what it stops, at most 20 lines
// and how many more; a group of one alert tells its whole description.
func TestAlertmanagerTemplate(t *testing.T) {
	var alerts []amAlert
	for i := range 23 {
		alerts = append(alerts, objectAlert(i, "1 brand, 3 phone numbers"))
	}
	title, text := renderGroup(t, alerts)
	if want := `[FIRING:23] TwilioTrustHubProfileRejected in subaccount "Acme" (AC1) of isv`; title != want {
		t.Errorf("title %q, want %q", title, want)
	}
	lines := strings.Split(text, "\n")
	var objects []string
	for _, l := range lines {
		if strings.HasPrefix(l, "- ") {
			objects = append(objects, l)
		}
	}
	if len(objects) != 20 {
		t.Errorf("%d object lines, want the first 20:\n%s", len(objects), text)
	}
	if want := `- "Dental 00" BU00 twilio-rejected, error 22215, 22216: blocks 1 brand, 3 phone numbers`; len(objects) == 0 || objects[0] != want {
		t.Errorf("the first object reads %q, want %q", objects[0], want)
	}
	for _, want := range []string{"Firing (23):", "and 3 more", "Twilio Console: https://console.twilio.com/", "Runbook: https://example.com/runbooks#"} {
		if !strings.Contains(text, want) {
			t.Errorf("the message does not say %q:\n%s", want, text)
		}
	}
	if n := len(strings.Split(text, "\n")); n > 30 {
		t.Errorf("a group of 23 takes %d lines, want at most 30", n)
	}

	_, text = renderGroup(t, alerts[:1])
	if !strings.HasPrefix(text, "The whole story of Dental 00.") || strings.Contains(text, "more") {
		t.Errorf("a group of one does not start with its description:\n%s", text)
	}

	unused := objectAlert(1, "nothing the exporter watches")
	unused.Labels["severity"] = "warning"
	if _, text = renderGroup(t, []amAlert{unused, objectAlert(2, "nothing the exporter watches")}); !strings.Contains(text, `"Dental 01" BU01 twilio-rejected, error 22215, 22216: nothing watched uses it`) {
		t.Errorf("an unused object's line:\n%s", text)
	}

	health := amAlert{Labels: map[string]string{"alertname": "TwilioTrustHubAPIUnreachable", "severity": "warning", "job": "twilio_trusthub"},
		Annotations: map[string]string{"summary": "twilio_trusthub_exporter cannot list 90% of its accounts", "description": "Twilio is down."}}
	title, text = renderGroup(t, []amAlert{health})
	if title != "[FIRING:1] TwilioTrustHubAPIUnreachable" || !strings.Contains(text, "- twilio_trusthub_exporter cannot list 90% of its accounts") {
		t.Errorf("a health alert: %q\n%s", title, text)
	}
}
