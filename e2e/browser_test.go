package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/proctest"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// screenshotPath is where UPDATE_SCREENSHOT=1 writes the README's picture
// of the status page; other runs leave the committed file alone.
const screenshotPath = repo + "/docs/status-page.png"

// The status page as a person sees it: Debian's chromium, headless, loads
// it from the demo. The rejected profiles are listed, the demo's hostile
// friendly name shows as text, and no script runs.
func TestStatusPageInBrowser(t *testing.T) {
	chromium := tool(t, "chromium", "chromium-browser")
	addr := proctest.FreeAddr(t)
	start(t, "exporter", "http://"+addr+"/-/healthy", proctest.Binary(t), "--demo", "--web.listen-address="+addr)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	browserLog := &proctest.Buffer{}
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // the tests may run as root, where chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Containers often give /dev/shm 64 MB, too little for chromium.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
		chromedp.CombinedOutput(browserLog),
	)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(ctx)
	defer cancelTab()
	defer func() {
		if t.Failed() {
			t.Logf("chromium output:\n%s", browserLog)
		}
	}()

	// Every dialog the page opens is recorded and dismissed, so that a
	// script that ran cannot block the test either.
	var mu sync.Mutex
	var dialogs []string
	opened := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range opened {
			if err != nil {
				return
			}
			mu.Lock()
			dialogs = append(dialogs, ev.Message)
			mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	seen := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), dialogs...)
	}

	began := time.Now()
	if err := chromedp.Do(ctx,
		chromedp.Navigate("http://"+addr+"/"),
		chromedp.WaitVisible(chromedp.CSS("table")),
	); err != nil {
		t.Fatalf("loading the page: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Listings", "demo-subaccount", "Customer-Profiles", "Needs action", "twilio-rejected", "more"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q:\n%s", want, text)
		}
	}
	rows, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("table:nth-of-type(2) tbody tr")))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 100 {
		t.Errorf("%d rows need action, want the first 100", len(rows))
	}
	// The demo's newest rejection carries the hostile name: the first row,
	// whose name cell (after account and resource) reads as the markup itself.
	name, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("table:nth-of-type(2) tbody tr:first-child td:nth-child(3)")))
	if err != nil {
		t.Fatal(err)
	}
	if name != simulator.HostileName {
		t.Errorf("the first row's name reads %q, want the text %q", name, simulator.HostileName)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("table:nth-of-type(2) tbody tr:first-child td:nth-child(5)")))
	if err != nil || status != "twilio-rejected" {
		t.Errorf("the first row's status: %q, %v", status, err)
	}
	scripts, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("script"), chromedp.AtLeast(0)))
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) != 0 {
		t.Errorf("the page holds %d <script> element(s)", len(scripts))
	}
	if d := seen(); len(d) != 0 {
		t.Errorf("the page opened dialogs: %q", d)
	}
	t.Logf("page loaded and checked in %s", time.Since(began).Round(time.Millisecond))

	if os.Getenv("UPDATE_SCREENSHOT") == "1" {
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(screenshotPath, png, 0o644); err != nil { //nolint:gosec // G306: a picture for the README
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", screenshotPath, len(png))
	}

	// The control: a dialog that does open is seen, so the empty list above
	// is worth something. DevTools' evaluation is not bound by the page's
	// Content-Security-Policy.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`alert("control")`)); err != nil {
		t.Fatalf("the control dialog: %v", err)
	}
	if d := seen(); len(d) != 1 || d[0] != "control" {
		t.Errorf("the control dialog was not seen: %q", d)
	}
}

// The status page is behind --web.config.file's basic auth, as /metrics is.
func TestStatusPageBehindBasicAuth(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("page-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(dir, "web.yml")
	writeFile(t, web, fmt.Sprintf("basic_auth_users:\n  oncall: %s\n", hash))
	addr := proctest.FreeAddr(t)
	cmd := exec.Command(proctest.Binary(t), "--demo", "--web.listen-address="+addr, "--web.config.file="+web)
	cmd.Env = proctest.Env()
	logs := &proctest.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	client := &http.Client{Timeout: 10 * time.Second}
	status := func(path, user, pass string) int {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			return -1
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(60 * time.Second)
	for status("/-/healthy", "", "") == -1 {
		if time.Now().After(deadline) {
			t.Fatalf("no listener after 60s:\n%s", logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, tc := range []struct {
		path, user, pass string
		want             int
	}{
		{"/", "", "", http.StatusUnauthorized},
		{"/", "oncall", "wrong", http.StatusUnauthorized},
		{"/", "oncall", "page-password", http.StatusOK},
		{"/metrics", "", "", http.StatusUnauthorized},
	} {
		if got := status(tc.path, tc.user, tc.pass); got != tc.want {
			t.Errorf("GET %s as %q: %d, want %d", tc.path, tc.user, got, tc.want)
		}
	}
}
