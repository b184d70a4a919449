package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// screenshotPath is the README's picture of the status page: every run of
// TestStatusPageInBrowser takes it again, of --demo, so it shows the page
// as it is.
const screenshotPath = repo + "/docs/status-page.png"

// The bounds of the status page's layout at viewportWidth: nothing wider
// than the window, no table of more than maxColumns, no page taller than
// maxHeight, however many accounts there are.
const (
	viewportWidth, viewportHeight = 1280, 1600
	maxColumns                    = 12
	maxHeight                     = 20000
)

// browser starts Debian's chromium, headless, with a viewport of
// viewportWidth; dialogs returns the dialogs any page has opened (each is
// dismissed, so that a script that ran cannot block the test either).
func browser(t *testing.T) (ctx context.Context, dialogs func() []string) {
	t.Helper()
	chromium := tool(t, "chromium", "chromium-browser")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
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
		chromedp.Flag("hide-scrollbars", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(viewportWidth, viewportHeight),
		chromedp.CombinedOutput(browserLog),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(ctx)
	t.Cleanup(cancelTab)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("chromium output:\n%s", browserLog)
		}
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(viewportWidth, viewportHeight)); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}

	var mu sync.Mutex
	var seen []string
	opened := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range opened {
			if err != nil {
				return
			}
			mu.Lock()
			seen = append(seen, ev.Message)
			mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// layout is what the browser measures of a page: the document's scrolling
// size and the window's width, the most columns of any row of any
// table and the right edge of the widest table, the server's time to the
// first byte, and the page's script elements.
type layout struct {
	ScrollWidth, ScrollHeight, InnerWidth int
	Columns                               int
	TableRight                            float64
	ServerMS                              float64
	Scripts                               int
}

// measureJS measures the page as layout. DevTools' evaluation is not
// bound by the page's Content-Security-Policy.
const measureJS = `(() => {
	const tables = Array.from(document.querySelectorAll("table"));
	const nav = performance.getEntriesByType("navigation")[0];
	return {
		ScrollWidth: document.documentElement.scrollWidth,
		ScrollHeight: document.documentElement.scrollHeight,
		InnerWidth: window.innerWidth,
		Columns: Math.max(0, ...tables.flatMap(t => Array.from(t.rows).map(r => Array.from(r.cells).reduce((n, c) => n + c.colSpan, 0)))),
		TableRight: Math.max(0, ...tables.map(t => t.getBoundingClientRect().right)),
		ServerMS: nav.responseStart - nav.requestStart,
		Scripts: document.scripts.length,
	};
})()`

// measure loads url and checks its layout against the bounds.
func measure(t *testing.T, ctx context.Context, name, url string) layout {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("h2#needs-action"))); err != nil {
		t.Fatalf("%s: loading %s: %v", name, url, err)
	}
	l, err := chromedp.Run(ctx, chromedp.Evaluate[layout](measureJS))
	if err != nil {
		t.Fatalf("%s: measuring: %v", name, err)
	}
	t.Logf("%s: %d×%d px in a window %d px wide (widest table ends at %.0f px), at most %d columns, %.1f ms to the first byte",
		name, l.ScrollWidth, l.ScrollHeight, l.InnerWidth, l.TableRight, l.Columns, l.ServerMS)
	if l.ScrollWidth > l.InnerWidth || l.TableRight > float64(l.InnerWidth) {
		t.Errorf("%s overflows: %d px wide (a table to %.0f px) in a window of %d", name, l.ScrollWidth, l.TableRight, l.InnerWidth)
	}
	if l.Columns > maxColumns {
		t.Errorf("%s has a table of %d columns, more than %d", name, l.Columns, maxColumns)
	}
	if l.ScrollHeight >= maxHeight {
		t.Errorf("%s is %d px tall, not under %d", name, l.ScrollHeight, maxHeight)
	}
	if l.Scripts != 0 {
		t.Errorf("%s holds %d <script> element(s)", name, l.Scripts)
	}
	return l
}

// The status page as a person sees it: Debian's chromium, headless, loads
// it from the demo at 1,280 px wide. It fits the window, the rejected
// objects are listed, the demo's hostile friendly name shows as text, no
// script runs, and the README's picture is taken again.
func TestStatusPageInBrowser(t *testing.T) {
	ctx, dialogs := browser(t)
	addr := proctest.FreeAddr(t)
	start(t, "exporter", "http://"+addr+"/-/healthy", proctest.Binary(t), "--demo", "--web.listen-address="+addr)
	base := "http://" + addr

	began := time.Now()
	measure(t, ctx, "--demo front page", base+"/")
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Totals", "Accounts to act on", "demo-subaccount", "demo-customer-1", "Customer-Profiles", "A2P campaigns",
		"Needs action", "twilio-rejected", "SUSPENDED", "in use", "phone numbers", "account healthy", "more"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q:\n%s", want, text)
		}
	}
	rows, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("table.actions tbody tr")))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 100 {
		t.Errorf("%d rows need action, want the first 100", len(rows))
	}
	// The first row is what is most in use: its impact counts phone
	// numbers.
	used, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("table.actions tbody tr:first-child td.impact")))
	if err != nil || !strings.Contains(used, "phone") {
		t.Errorf("the first row's impact reads %q (%v), want phone numbers", used, err)
	}
	// Each SID beside its Console link, each error code to its page.
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table.actions a")).map(a => a.href)`))
	if err != nil {
		t.Fatal(err)
	}
	var console, docs int
	for _, l := range links {
		console += boolInt(strings.HasPrefix(l, "https://console.twilio.com/"))
		docs += boolInt(strings.HasPrefix(l, "https://www.twilio.com/docs/errors/"))
	}
	if console < 100 || docs == 0 {
		t.Errorf("%d Console links and %d error code links in the table", console, docs)
	}

	// The demo's newest rejection carries the hostile name: among the
	// account's rejected profiles, its name reads as the markup itself.
	measure(t, ctx, "--demo rejected profiles of one account", base+"/?account=demo&kind=customer_profiles&status=twilio-rejected")
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table.actions span.name")).map(e => e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names, simulator.HostileName) {
		t.Errorf("no row's name reads as the text %q: %q", simulator.HostileName, names)
	}
	measure(t, ctx, "--demo account page", base+"/?account=demo")

	// The filter form is sent as a plain GET, which the policy allows
	// (form-action 'self'), and the list it brings lists that kind only.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.SetValue(chromedp.CSS(`select[name="kind"]`), "a2p_campaigns"),
		chromedp.SetValue(chromedp.CSS(`select[name="status"]`), "FAILED"),
		chromedp.Submit(chromedp.CSS("form.filters")),
		chromedp.WaitVisible(chromedp.CSS("p.meta + h2#needs-action")),
	); err != nil {
		t.Fatalf("sending the filter form: %v", err)
	}
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(location, "/?account=&kind=a2p_campaigns&status=FAILED") {
		t.Errorf("the form went to %q (%v)", location, err)
	}
	kindsListed, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table.actions small.kind, table.actions span.status")).map(e => e.textContent)`))
	if err != nil || len(kindsListed) == 0 || len(slices.Compact(slices.Sorted(slices.Values(kindsListed)))) != 2 {
		t.Errorf("the filtered list shows %q (%v), want failed A2P campaigns only", kindsListed, err)
	}
	if d := dialogs(); len(d) != 0 {
		t.Errorf("the page opened dialogs: %q", d)
	}
	t.Logf("pages loaded and checked in %s", time.Since(began).Round(time.Millisecond))

	// The picture of the front page, its first screen.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("h2#needs-action"))); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(screenshotPath, png, 0o644); err != nil { //nolint:gosec // G306: a picture for the README
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", screenshotPath, len(png))

	// The control: a dialog that does open is seen, so the empty list above
	// is worth something.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`alert("control")`)); err != nil {
		t.Fatalf("the control dialog: %v", err)
	}
	if d := dialogs(); len(d) != 1 || d[0] != "control" {
		t.Errorf("the control dialog was not seen: %q", d)
	}
}

// The large estate the browser measures: estateSubaccounts subaccounts,
// every estateProblemEvery-th with problems of every kind.
const estateSubaccounts, estateProblemEvery = 1000, 10

// The status page of an ISV with 1,000 discovered subaccounts, every tenth
// with problems of every kind: the front page, a page of its accounts, an
// account's page and the filtered list all fit 1,280 px and stay under
// 20,000 px tall.
func TestStatusPageLargeEstateInBrowser(t *testing.T) {
	ctx, dialogs := browser(t)
	sim := simulator.New()
	parent := fmt.Sprintf("AC%032x", 0xe5a7e)
	token := "large-estate-token"
	sim.AddAccount(parent, token, nil)
	sim.AddSubaccountEstate(parent, estateSubaccounts, estateProblemEvery, time.Now())
	api := httptest.NewServer(sim)
	t.Cleanup(api.Close)
	cfg := filepath.Join(t.TempDir(), "config.yml")
	writeFile(t, cfg, fmt.Sprintf(`api_url: %s
messaging_api_url: %[1]s
accounts_api_url: %[1]s
cache_ttl: 1h
accounts:
  - name: isv
    account_sid: %s
    auth_token: %s
    subaccounts:
      discover: true
`, api.URL, parent, token))
	addr := proctest.FreeAddr(t)
	start(t, "exporter", "http://"+addr+"/-/healthy", proctest.Binary(t), "--config.file="+cfg, "--web.listen-address="+addr)
	base := "http://" + addr

	// Each view waits a moment for the listings and starts those due:
	// the estate is listed once the page counts every account, none
	// pending.
	all := fmt.Sprintf("<strong>%d,%03d</strong> accounts", (estateSubaccounts+1)/1000, (estateSubaccounts+1)%1000)
	client := &http.Client{Timeout: 30 * time.Second}
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		body, err := fetch(client, base+"/")
		if err == nil && strings.Contains(body, all) && !strings.Contains(body, "pending</span>") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the estate was not listed in 3 minutes (%v)", err)
		}
	}

	measure(t, ctx, "1,000 subaccounts, front page", base+"/")
	accounts, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("h2 + table tbody tr"), chromedp.AtLeast(0)))
	if err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	healthy := estateSubaccounts - estateSubaccounts/estateProblemEvery + 1 // and the parent
	for _, want := range []string{fmt.Sprintf("%d accounts healthy", healthy), "Accounts 1–50 of 100", "next ›", "customer-0000", "isv"} {
		if !strings.Contains(text, want) {
			t.Errorf("the front page does not show %q", want)
		}
	}
	if len(accounts) != 50 {
		t.Errorf("the front page lists %d accounts, want a page of 50", len(accounts))
	}
	measure(t, ctx, "1,000 subaccounts, second page of accounts", base+"/?page=2")
	measure(t, ctx, "1,000 subaccounts, an account's page", base+"/?account="+simulator.EstateSubaccountSID(0))
	measure(t, ctx, "1,000 subaccounts, failed campaigns", base+"/?kind=a2p_campaigns&status=FAILED")
	if d := dialogs(); len(d) != 0 {
		t.Errorf("the pages opened dialogs: %q", d)
	}
}

func fetch(client *http.Client, url string) (string, error) {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
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
