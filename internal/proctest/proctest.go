// Package proctest runs programs for end-to-end tests: it builds the
// exporter binary once, finds free loopback ports, and starts processes
// that are stopped when the test ends.
package proctest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// Binary builds the exporter once per test process and returns its path.
// Cleanup removes it; call it from TestMain after m.Run.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		if binDir, err = os.MkdirTemp("", "twilio_trusthub_exporter-bin"); err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(binDir, "twilio_trusthub_exporter")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

var (
	mixinOnce sync.Once
	mixinBin  string
	mixinErr  error
)

// Mixin generates the rules from the monitoring mixin (../mixin) with
// config merged into its _config, a jsonnet object (a job selector, shorter
// durations for a test that cannot wait minutes), and returns them. The
// mixin's generator, a module of its own, is built once per test process.
func Mixin(t testing.TB, config string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	mixinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mixin-bin")
		if err != nil {
			mixinErr = err
			return
		}
		mixinBin = filepath.Join(dir, "mixin")
		cmd := exec.Command("go", "build", "-o", mixinBin, ".")
		cmd.Dir = filepath.Join(root, "mixin")
		if out, err := cmd.CombinedOutput(); err != nil {
			mixinErr = fmt.Errorf("building the mixin: %w\n%s", err, out)
		}
	})
	if mixinErr != nil {
		t.Fatal(mixinErr)
	}
	out := t.TempDir()
	cmd := exec.Command(mixinBin, "-out", out, "-config", config)
	cmd.Dir = filepath.Join(root, "mixin")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mixin -config %s: %v\n%s", config, err, b)
	}
	b, err := os.ReadFile(filepath.Join(out, "alerts", "twilio_trusthub.rules.yml")) //nolint:gosec // G304: a file of the test's own temporary folder
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Cleanup removes the built binaries.
func Cleanup() {
	for _, p := range []string{binDir, filepath.Dir(mixinBin)} {
		if p != "" && p != "." {
			_ = os.RemoveAll(p)
		}
	}
}

// exporterModule is the exporter's module path: the module that holds
// main.go and ../mixin.
const exporterModule = "github.com/twilio-trusthub-exporter/twilio_trusthub_exporter"

// moduleRoot returns the exporter module's directory. It asks for that module
// by path, not for the current one (go env GOMOD): the end-to-end and chart
// tests are modules of their own, which replace the exporter's module with
// the repository's root, and from there GOMOD is their own go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", exporterModule).Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", exporterModule, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("go list -m %s: no directory", exporterModule)
	}
	return dir, nil
}

// FreeAddr returns a loopback address with a port free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// Env is a process environment with nothing inherited but PATH, so that a
// developer's TWILIO_* variables cannot leak into a test, plus extra.
func Env(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}, extra...)
}

// Buffer collects a process's output; safe for concurrent use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Process is a started program.
type Process struct {
	Name string
	Cmd  *exec.Cmd
	Logs *Buffer
	// done holds the exit; whoever takes it puts it back.
	done chan error
}

// Start runs bin with args and env (see Env) and waits until GET readyURL
// answers 200. The process is killed when the test ends; its output is
// logged if the test failed.
func Start(t testing.TB, name, readyURL string, env []string, bin string, args ...string) *Process {
	t.Helper()
	p := &Process{Name: name, Logs: &Buffer{}, done: make(chan error, 1)}
	p.Cmd = exec.Command(bin, args...)
	p.Cmd.Env = env
	p.Cmd.Stdout, p.Cmd.Stderr = p.Logs, p.Logs
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { p.done <- p.Cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.Cmd.Process.Kill()
		err := <-p.done
		p.done <- err
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.Logs)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if ready(readyURL) {
			return p
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("%s exited early: %v\n%s", name, err, p.Logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s after 60s:\n%s", name, readyURL, p.Logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ready(url string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Wait reports whether the process exited within d, and how.
func (p *Process) Wait(d time.Duration) (exited bool, err error) {
	select {
	case err := <-p.done:
		p.done <- err
		return true, err
	case <-time.After(d):
		return false, nil
	}
}
