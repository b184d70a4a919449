package charts

import (
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
)

// alertRules returns the PrometheusRule's alerting rules, by name, each
// name with the severities of its rules in order.
func alertRules(t *testing.T, pr *monitoringv1.PrometheusRule) (map[string][]string, []monitoringv1.Rule) {
	t.Helper()
	sev := map[string][]string{}
	var all []monitoringv1.Rule
	for _, g := range pr.Spec.Groups {
		if len(g.Rules) == 0 {
			t.Errorf("group %s is empty", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert != "" {
				sev[r.Alert] = append(sev[r.Alert], r.Labels["severity"])
				all = append(all, r)
			}
		}
	}
	return sev, all
}

// The values that change what the mixin's _config would: the job
// selector, labels of every alert, alerts or one severity of them left
// out, severities overridden. Each changes only what it names.
func TestPrometheusRuleValues(t *testing.T) {
	ch := loadChart(t)
	base, baseRules := alertRules(t, one[*monitoringv1.PrometheusRule](t, render(t, ch, values(t, "prometheusRule: {enabled: true}\n"))))
	if !slices.Equal(base["TwilioTrustHubProfileRejected"], []string{"critical", "warning"}) {
		t.Fatalf("the shipped rules changed: TwilioTrustHubProfileRejected has severities %v", base["TwilioTrustHubProfileRejected"])
	}
	exprOf := func(rules []monitoringv1.Rule, alert string) string {
		for _, r := range rules {
			if r.Alert == alert {
				return r.Expr.String()
			}
		}
		return ""
	}
	if got, want := exprOf(baseRules, "TwilioTrustHubExporterDown"), `absent(up{job="`+chartName+`"})`; !strings.Contains(got, want) || strings.Contains(got, "twilio_trusthub\"") {
		t.Errorf("ExporterDown with default values: %q, want the ServiceMonitor's job: %q", got, want)
	}
	for _, tc := range []struct {
		name, values string
		check        func(t *testing.T, sev map[string][]string, rules []monitoringv1.Rule)
	}{
		{"job selector", `prometheusRule: {jobSelector: 'job=~"twilio_trusthub.*"'}`,
			func(t *testing.T, _ map[string][]string, rules []monitoringv1.Rule) {
				if got := exprOf(rules, "TwilioTrustHubExporterDown"); !strings.Contains(got, `max by (job) (up{job=~"twilio_trusthub.*"}) == 0`) ||
					!strings.Contains(got, `absent(up{job=~"twilio_trusthub.*"})`) {
					t.Errorf("ExporterDown: %q", got)
				}
			}},
		{"rule labels, severity kept", `prometheusRule: {ruleLabels: {team: compliance, severity: none}}`,
			func(t *testing.T, sev map[string][]string, rules []monitoringv1.Rule) {
				for _, r := range rules {
					if r.Labels["team"] != "compliance" {
						t.Errorf("%s: labels %v", r.Alert, r.Labels)
					}
				}
				if !slices.Equal(sev["TwilioTrustHubProfileRejected"], base["TwilioTrustHubProfileRejected"]) {
					t.Errorf("ruleLabels changed a severity: %v", sev["TwilioTrustHubProfileRejected"])
				}
			}},
		{"an alert left out", `prometheusRule: {disabledAlerts: [TwilioTrustHubProfileExpiringSoon]}`,
			func(t *testing.T, sev map[string][]string, rules []monitoringv1.Rule) {
				if _, ok := sev["TwilioTrustHubProfileExpiringSoon"]; ok || len(rules) != len(baseRules)-len(base["TwilioTrustHubProfileExpiringSoon"]) {
					t.Errorf("%d rules, ExpiringSoon %v", len(rules), sev["TwilioTrustHubProfileExpiringSoon"])
				}
			}},
		{"one severity of an alert left out: no ticket for unused drafts", `prometheusRule: {disabledAlerts: ["TwilioTrustHubProfileRejected:warning"]}`,
			func(t *testing.T, sev map[string][]string, rules []monitoringv1.Rule) {
				if !slices.Equal(sev["TwilioTrustHubProfileRejected"], []string{"critical"}) || len(rules) != len(baseRules)-1 {
					t.Errorf("ProfileRejected %v, %d rules", sev["TwilioTrustHubProfileRejected"], len(rules))
				}
			}},
		{"severities overridden", `prometheusRule: {severityOverrides: {TwilioTrustHubExporterDown: critical, "TwilioTrustHubA2PCampaignNotVerified:warning": info}}`,
			func(t *testing.T, sev map[string][]string, _ []monitoringv1.Rule) {
				if !slices.Equal(sev["TwilioTrustHubExporterDown"], []string{"critical"}) ||
					!slices.Equal(sev["TwilioTrustHubA2PCampaignNotVerified"], []string{"critical", "info"}) {
					t.Errorf("ExporterDown %v, CampaignNotVerified %v", sev["TwilioTrustHubExporterDown"], sev["TwilioTrustHubA2PCampaignNotVerified"])
				}
			}},
		{"a whole group left out", "prometheusRule: {disabledAlerts: [" + strings.Join([]string{
			"TwilioTrustHubExporterDown", "TwilioTrustHubAPIUnreachable", "TwilioTrustHubListingFailing", "TwilioTrustHubResourceListingFailing",
			"TwilioTrustHubDataStale", "TwilioTrustHubDiscoveryFailing", "TwilioTrustHubUsageListingFailing"}, ", ") + "]}",
			func(t *testing.T, sev map[string][]string, _ []monitoringv1.Rule) {
				if _, ok := sev["TwilioTrustHubListingFailing"]; ok {
					t.Error("ListingFailing is still there")
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := one[*monitoringv1.PrometheusRule](t, render(t, ch, values(t, "prometheusRule: {enabled: true}\n", tc.values+"\n")))
			sev, rules := alertRules(t, pr)
			tc.check(t, sev, rules)
		})
	}
}

// A name that is no alert of the rules is refused, naming it: a typo
// would otherwise leave the alert on, or its severity unchanged.
func TestPrometheusRuleValuesRefused(t *testing.T) {
	ch := loadChart(t)
	for _, tc := range []struct{ name, values, want string }{
		{"misspelt alert", `prometheusRule: {enabled: true, disabledAlerts: [TwilioTrustHubProfileRejectd]}`,
			`prometheusRule: "TwilioTrustHubProfileRejectd" is no alert of the rules`},
		{"a severity the alert has not", `prometheusRule: {enabled: true, disabledAlerts: ["TwilioTrustHubExporterDown:critical"]}`,
			`prometheusRule: "TwilioTrustHubExporterDown:critical" is no alert of the rules`},
		{"misspelt override", `prometheusRule: {enabled: true, severityOverrides: {TwilioTrustHubExporterDwn: critical}}`,
			`prometheusRule: "TwilioTrustHubExporterDwn" is no alert of the rules`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := install(t, ch, values(t, tc.values+"\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
