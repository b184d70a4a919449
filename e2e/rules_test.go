package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func run(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// rulesIn returns the number of rules (alerts and recordings) in a rule
// file's text, as YAML reads it: what promtool must report having found.
func rulesIn(t *testing.T, name, text string) int {
	t.Helper()
	var rf struct {
		Groups []struct {
			Rules []map[string]any `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal([]byte(text), &rf); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	n := 0
	for _, g := range rf.Groups {
		n += len(g.Rules)
	}
	return n
}

// promtools returns the promtools to check the shipped files with, by name:
// Debian's 2.x on PATH and Prometheus 3's (PROMTOOL3_BINARY, built by
// scripts/test.sh), so the rules are held to both majors' parsers and
// evaluation.
func promtools(t *testing.T) map[string]string {
	t.Helper()
	return map[string]string{"promtool-2": tool(t, "promtool"), "promtool-3": fromEnv(t, "PROMTOOL3_BINARY")}
}

func TestRulesCheck(t *testing.T) {
	for name, promtool := range promtools(t) {
		t.Run(name, func(t *testing.T) { checkRules(t, promtool) })
	}
}

func checkRules(t *testing.T, promtool string) {
	files, _ := filepath.Glob(filepath.Join(repo, "alerts", "*.yml"))
	if len(files) == 0 {
		t.Fatal("no rule files under alerts/")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			n := rulesIn(t, f, readFile(t, f))
			if n == 0 {
				t.Fatal("no rules in the file: the check would prove nothing")
			}
			// --lint-fatal: a lint finding fails the check instead of being printed.
			out := run(t, ".", promtool, "check", "rules", "--lint=all", "--lint-fatal", f)
			if want := fmt.Sprintf("SUCCESS: %d rules found", n); !strings.Contains(out, want) {
				t.Errorf("promtool check rules: want %q:\n%s", want, out)
			}
		})
	}
}

// promtool test rules: every alert, with its labels and annotations.
func TestRulesUnitTests(t *testing.T) {
	tests, _ := filepath.Glob(filepath.Join(repo, "alerts", "tests", "*.yml"))
	if len(tests) == 0 {
		t.Fatal("no rule tests under alerts/tests/")
	}
	for name, promtool := range promtools(t) {
		t.Run(name, func(t *testing.T) {
			out := run(t, ".", promtool, append([]string{"test", "rules"}, tests...)...)
			if !strings.Contains(out, "SUCCESS") {
				t.Errorf("promtool test rules:\n%s", out)
			}
		})
	}
}

// Every alert the rule file defines has a unit test in one of the test
// files. The alerts are read twice, as YAML and line by line, and must
// agree: an alert the line scan missed would escape the check.
func TestEveryAlertIsTested(t *testing.T) {
	rules := readFile(t, filepath.Join(repo, "alerts", "twilio_trusthub.rules.yml"))
	files, _ := filepath.Glob(filepath.Join(repo, "alerts", "tests", "*.yml"))
	if len(files) == 0 {
		t.Fatal("no rule tests under alerts/tests/")
	}
	var tests string
	for _, f := range files {
		tests += readFile(t, f)
	}
	var rf ruleFile
	if err := yaml.Unmarshal([]byte(rules), &rf); err != nil {
		t.Fatal(err)
	}
	var parsed []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				parsed = append(parsed, r.Alert)
			}
		}
	}
	var scanned []string
	for _, line := range strings.Split(rules, "\n") {
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "- alert: ")
		if !ok {
			continue
		}
		scanned = append(scanned, name)
		if !strings.Contains(tests, "alertname: "+name+"\n") {
			t.Errorf("alert %s has no promtool test", name)
		}
	}
	if len(parsed) == 0 {
		t.Fatal("no alerts in the rule file: the check would prove nothing")
	}
	if !slices.Equal(parsed, scanned) {
		t.Errorf("alerts as YAML reads them %v, line by line %v", parsed, scanned)
	}
}

func TestExampleConfigs(t *testing.T) {
	amtool := tool(t, "amtool")
	for _, promtool := range promtools(t) {
		for _, f := range []string{"prometheus.yml", "prometheus-sharded.yml"} {
			run(t, filepath.Join(repo, "examples"), promtool, "check", "config", f)
		}
	}
	run(t, filepath.Join(repo, "examples"), amtool, "check-config", "alertmanager.yml")
}
