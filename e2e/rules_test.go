package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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

func TestRulesCheck(t *testing.T) {
	promtool := tool(t, "promtool")
	files, _ := filepath.Glob(filepath.Join(repo, "alerts", "*.yml"))
	if len(files) == 0 {
		t.Fatal("no rule files under alerts/")
	}
	out := run(t, ".", promtool, append([]string{"check", "rules"}, files...)...)
	if !strings.Contains(out, "SUCCESS: 7 rules found") {
		t.Errorf("promtool check rules:\n%s", out)
	}
}

// promtool test rules: every alert, with its labels and annotations.
func TestRulesUnitTests(t *testing.T) {
	promtool := tool(t, "promtool")
	tests, _ := filepath.Glob(filepath.Join(repo, "alerts", "tests", "*.yml"))
	if len(tests) == 0 {
		t.Fatal("no rule tests under alerts/tests/")
	}
	out := run(t, ".", promtool, append([]string{"test", "rules"}, tests...)...)
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules:\n%s", out)
	}
}

// Every alert the rule file defines has a unit test.
func TestEveryAlertIsTested(t *testing.T) {
	rules := readFile(t, filepath.Join(repo, "alerts", "twilio_trusthub.rules.yml"))
	tests := readFile(t, filepath.Join(repo, "alerts", "tests", "twilio_trusthub.test.yml"))
	n := 0
	for _, line := range strings.Split(rules, "\n") {
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "- alert: ")
		if !ok {
			continue
		}
		n++
		if !strings.Contains(tests, "alertname: "+name+"\n") {
			t.Errorf("alert %s has no promtool test", name)
		}
	}
	if n != 7 {
		t.Errorf("found %d alerts, want 7", n)
	}
}

func TestExampleConfigs(t *testing.T) {
	promtool := tool(t, "promtool")
	amtool := tool(t, "amtool")
	run(t, filepath.Join(repo, "examples"), promtool, "check", "config", "prometheus.yml")
	run(t, filepath.Join(repo, "examples"), amtool, "check-config", "alertmanager.yml")
}
