// Package e2e runs the shipped alert rules, example configurations and
// dashboard through the real programs: promtool, Prometheus and Alertmanager.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/proctest"
)

// repo is the repository root, where the shipped files are.
const repo = ".."

// tool finds the first of names on PATH. Without it the test skips on a
// developer's machine and fails in CI (CI=true): there it must be installed.
func tool(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s not found on PATH; `bash scripts/test.sh` installs it", strings.Join(names, " or "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func TestMain(m *testing.M) {
	code := m.Run()
	proctest.Cleanup()
	os.Exit(code)
}

// start runs a program with a clean environment and waits until GET
// readyURL answers 200.
func start(t *testing.T, name, readyURL string, bin string, args ...string) *proctest.Process {
	t.Helper()
	return proctest.Start(t, name, readyURL, proctest.Env(), bin, args...)
}

// substitute replaces each old string in text, failing if one is missing so
// that a changed example cannot silently escape the test.
func substitute(t *testing.T, file, text string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		old, replacement := pairs[i], pairs[i+1]
		if !strings.Contains(text, old) {
			t.Fatalf("%s no longer contains %q; update the test with the example", file, old)
		}
		text = strings.ReplaceAll(text, old, replacement)
	}
	return text
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// fromEnv returns the program named by the environment variable env. Unset
// or not executable, the test skips on a developer's machine and fails in
// CI (CI=true), where scripts/test.sh provides it.
func fromEnv(t *testing.T, env string) string {
	t.Helper()
	p := os.Getenv(env)
	if p != "" {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	msg := fmt.Sprintf("%s=%q is not an executable; `bash scripts/test.sh` builds it and sets it", env, p)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}
