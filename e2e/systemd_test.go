package e2e

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/internal/proctest"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

// The shipped systemd files and what they name.
var systemdDir = filepath.Join(repo, "examples", "systemd")

const (
	serviceUnit     = "twilio_trusthub_exporter.service"
	socketUnit      = "twilio_trusthub_exporter.socket"
	socketDropIn    = "socket-activation.conf"
	installedBinary = "/usr/local/bin/twilio_trusthub_exporter"
	// The account of examples/systemd/config.yml, and a token for it that
	// must never be printed.
	systemdSID   = "AC00000000000000000000000000000000"
	systemdToken = "systemd-test-token-7f3a9c"
	// Above this systemd-analyze's exposure score means that hardening was
	// lost. The unit scores 1.2 with systemd 252; what remains is inherent
	// (Internet sockets, the host's network, @system-service's calls). Taking
	// out any one of CapabilityBoundingSet=, SystemCallFilter=,
	// RestrictNamespaces=, RestrictAddressFamilies= or DynamicUser= reaches
	// 1.5 or more; settings the score cannot see are checked one by one in
	// TestSystemdUnitHardening.
	maxExposure = 1.5
)

// unitFile is a systemd unit or drop-in as key=value settings by section,
// continuation lines joined, comments dropped.
type unitFile map[string]map[string][]string

func parseUnit(t *testing.T, path string) unitFile {
	t.Helper()
	u := unitFile{}
	section := ""
	var pending string
	sc := bufio.NewScanner(strings.NewReader(readFile(t, path)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if pending == "" && (line == "" || line[0] == '#' || line[0] == ';') {
			continue
		}
		// systemd joins a line ending in a backslash with the next, the
		// backslash and newline becoming a space.
		if l, ok := strings.CutSuffix(line, `\`); ok {
			pending += l + " "
			continue
		}
		line, pending = pending+line, ""
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section == "" {
			t.Fatalf("%s: not a setting: %q", path, line)
		}
		k = strings.TrimSpace(k)
		u[section][k] = append(u[section][k], strings.TrimSpace(v))
	}
	return u
}

// execStart is the command line systemd would run: the last ExecStart=,
// since an empty assignment in a drop-in resets the list.
func (u unitFile) execStart(t *testing.T) []string {
	t.Helper()
	v := u["Service"]["ExecStart"]
	if len(v) == 0 || v[len(v)-1] == "" {
		t.Fatal("no ExecStart=")
	}
	return strings.Fields(v[len(v)-1])
}

// stageUnits copies the shipped service into a directory laid out as
// /etc/systemd/system, with ExecStart pointing at the freshly built binary:
// systemd-analyze verify requires the program to exist and be executable.
// With socket, the socket unit and its drop-in for the service come along.
// edit may change a file's text before it is written.
func stageUnits(t *testing.T, socket bool, edit func(name, text string) string) string {
	t.Helper()
	bin := proctest.Binary(t)
	dir := t.TempDir()
	files := map[string]string{serviceUnit: filepath.Join(dir, serviceUnit)}
	if socket {
		dropIns := filepath.Join(dir, serviceUnit+".d")
		if err := os.Mkdir(dropIns, 0o755); err != nil {
			t.Fatal(err)
		}
		files[socketUnit] = filepath.Join(dir, socketUnit)
		files[socketDropIn] = filepath.Join(dropIns, socketDropIn)
	}
	for name, dst := range files {
		text := readFile(t, filepath.Join(systemdDir, name))
		if name != socketUnit { // the socket runs no program
			text = substitute(t, name, text, installedBinary, bin)
		}
		if edit != nil {
			text = edit(name, text)
		}
		writeFile(t, dst, text)
	}
	return dir
}

// analyzeEnv runs systemd-analyze offline. There is no systemd as PID 1 here,
// and verify and security --offline=true need none: they load the unit
// files themselves. Messages go to stderr (SYSTEMD_LOG_TARGET=console) even
// when the test runs under a service whose stderr is the journal, so none can
// slip past the test.
func analyzeEnv() []string {
	return proctest.Env("SYSTEMD_LOG_TARGET=console", "SYSTEMD_LOG_COLOR=no", "SYSTEMD_PAGER=cat")
}

// verify runs systemd-analyze verify on the staged units and returns its exit error and the lines that concern the staged files. Lines
// about systemd's own units (network.target and the like) belong to the
// host, not to this repository, and are only logged.
func verify(t *testing.T, analyze, dir string) ([]string, error) {
	t.Helper()
	// --man=no: the units name no man pages, and the check must not depend on
	// man being installed.
	args := []string{"verify", "--man=no", filepath.Join(dir, serviceUnit)}
	if _, err := os.Stat(filepath.Join(dir, socketUnit)); err == nil {
		args = append(args, filepath.Join(dir, socketUnit))
	}
	cmd := exec.Command(analyze, args...)
	cmd.Env = analyzeEnv()
	out, err := cmd.CombinedOutput()
	var ours []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch {
		case line == "":
		case strings.Contains(line, dir), strings.Contains(line, "twilio_trusthub_exporter"):
			ours = append(ours, line)
		default:
			t.Logf("systemd-analyze verify, about another unit: %s", line)
		}
	}
	return ours, err
}

// The service alone, and with socket activation: the drop-in replaces the
// service's ExecStart=, so each command line is verified in its own layout.
func TestSystemdUnitVerify(t *testing.T) {
	analyze := tool(t, "systemd-analyze")
	for _, socket := range []bool{false, true} {
		t.Run("socket="+strconv.FormatBool(socket), func(t *testing.T) {
			lines, err := verify(t, analyze, stageUnits(t, socket, nil))
			if err != nil || len(lines) > 0 {
				t.Errorf("systemd-analyze verify: %v\n%s", err, strings.Join(lines, "\n"))
			}
		})
	}
}

// The check above can fail: each broken copy of the units is reported.
func TestSystemdUnitVerifyCatches(t *testing.T) {
	analyze := tool(t, "systemd-analyze")
	tests := []struct {
		name, file, old, new string
	}{
		{"misspelt key", serviceUnit, "ProtectHome=yes", "ProtectHom=yes"},
		{"bad value", serviceUnit, "ProtectSystem=strict", "ProtectSystem=strictest"},
		{"missing program", serviceUnit, "ExecStart=", "ExecStart=/nonexistent/twilio_trusthub_exporter "},
		{"bad socket", socketUnit, "ListenStream=10311", "ListenStream=host:port"},
		{"misspelt key in the drop-in", socketDropIn, "[Service]", "[Service]\nExecstart=x"},
		// The drop-in's first ExecStart= is the empty one that clears the
		// service's; break the second.
		{"missing program in the drop-in", socketDropIn, "ExecStart=/", "ExecStart=/nonexistent/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := stageUnits(t, tt.file != serviceUnit, func(name, text string) string {
				if name != tt.file {
					return text
				}
				if !strings.Contains(text, tt.old) {
					t.Fatalf("%s no longer contains %q; update the test", name, tt.old)
				}
				return strings.Replace(text, tt.old, tt.new, 1)
			})
			lines, err := verify(t, analyze, dir)
			t.Logf("exit: %v; output:\n%s", err, strings.Join(lines, "\n"))
			if err == nil && len(lines) == 0 {
				t.Errorf("systemd-analyze verify found nothing wrong after %q → %q in %s", tt.old, tt.new, tt.file)
			}
		})
	}
}

var exposureRe = regexp.MustCompile(`Overall exposure level for ` + regexp.QuoteMeta(serviceUnit) + `: (\d+\.\d+)`)

func TestSystemdUnitExposure(t *testing.T) {
	analyze := tool(t, "systemd-analyze")
	dir := stageUnits(t, false, nil)
	cmd := exec.Command(analyze, "security", "--offline=true", "--no-pager", filepath.Join(dir, serviceUnit))
	cmd.Env = analyzeEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := exposureRe.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure level in:\n%s", out)
	}
	score, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("exposure level %.1f", score)
	if score >= maxExposure {
		t.Errorf("exposure level %.1f, want below %.1f:\n%s", score, maxExposure, out)
	}
}

// Settings the exposure score weighs little or not at all (DynamicUser=
// implies several of them), each checked as written.
func TestSystemdUnitHardening(t *testing.T) {
	u := parseUnit(t, filepath.Join(systemdDir, serviceUnit))
	svc := u["Service"]
	tests := []struct{ key, want string }{
		{"DynamicUser", "yes"},
		{"ProtectSystem", "strict"},
		{"ProtectHome", "yes"},
		{"PrivateTmp", "yes"},
		{"PrivateDevices", "yes"},
		{"NoNewPrivileges", "yes"},
		{"CapabilityBoundingSet", ""},
		{"RestrictAddressFamilies", "AF_INET AF_INET6"},
		{"SystemCallArchitectures", "native"},
		{"MemoryDenyWriteExecute", "yes"},
		{"LockPersonality", "yes"},
		{"ProtectKernelTunables", "yes"},
		{"ProtectKernelModules", "yes"},
		{"ProtectKernelLogs", "yes"},
		{"ProtectControlGroups", "yes"},
		{"ProtectClock", "yes"},
		{"ProtectHostname", "yes"},
		{"ProtectProc", "invisible"},
		{"RestrictNamespaces", "yes"},
		{"RestrictRealtime", "yes"},
		{"RestrictSUIDSGID", "yes"},
		{"UMask", "0077"},
		{"Restart", "on-failure"},
		{"ExecReload", "/bin/kill -HUP $MAINPID"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := svc[tt.key]; len(got) != 1 || got[0] != tt.want {
				t.Errorf("%s= is %q, want exactly %q", tt.key, got, tt.want)
			}
		})
	}
	if got := strings.Join(svc["SystemCallFilter"], " "); !strings.HasPrefix(got, "@system-service") {
		t.Errorf("SystemCallFilter= is %q, want the @system-service allow list first", got)
	}
	// The secrets come in as credentials; nothing in the unit may carry them.
	for _, key := range []string{"Environment", "EnvironmentFile", "SetCredential"} {
		if v, ok := svc[key]; ok {
			t.Errorf("%s=%q: the token belongs in a credential file", key, v)
		}
	}
	wantCreds := []string{
		"config.yml:/etc/twilio_trusthub_exporter/config.yml",
		"auth_token:/etc/twilio_trusthub_exporter/auth_token",
	}
	if got := svc["LoadCredential"]; strings.Join(got, "\n") != strings.Join(wantCreds, "\n") {
		t.Errorf("LoadCredential= is %q, want %q", got, wantCreds)
	}
}

// credentialsDir lays out what systemd makes of the unit's LoadCredential=
// lines: the example config and the token side by side. The config gets the
// simulator's URL (the example uses the real API's default).
func credentialsDir(t *testing.T, apiURL string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := readFile(t, filepath.Join(systemdDir, "config.yml"))
	for _, want := range []string{"account_sid: " + systemdSID, "auth_token_file: auth_token"} {
		if !strings.Contains(cfg, want) {
			t.Fatalf("examples/systemd/config.yml no longer contains %q; update the test", want)
		}
	}
	if apiURL != "" {
		cfg = "api_url: " + apiURL + "\nmessaging_api_url: " + apiURL + "\n" + cfg
	}
	writeFile(t, filepath.Join(dir, "config.yml"), cfg)
	writeFile(t, filepath.Join(dir, "auth_token"), systemdToken+"\n")
	return dir
}

// The example config passes --config.check with the token beside it, and
// names the missing file without it.
func TestSystemdExampleConfig(t *testing.T) {
	bin := proctest.Binary(t)
	tests := []struct {
		name      string
		withToken bool
		wantCode  int
		wantOut   string
	}{
		{"token beside the config", true, 0, "configuration valid: 1 account(s)"},
		{"token missing", false, 1, `auth_token_file: "` + "%DIR%/auth_token" + `" cannot be read`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := credentialsDir(t, "")
			if !tt.withToken {
				if err := os.Remove(filepath.Join(dir, "auth_token")); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(bin, "--config.check", "--config.file="+filepath.Join(dir, "config.yml"))
			cmd.Env = proctest.Env()
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != tt.wantCode {
				t.Errorf("exit code %d, want %d:\n%s", code, tt.wantCode, out)
			}
			if want := strings.ReplaceAll(tt.wantOut, "%DIR%", dir); !strings.Contains(string(out), want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
			if strings.Contains(string(out), systemdToken) {
				t.Error("the auth token appears in the output")
			}
		})
	}
}

// systemdCommand turns a unit's ExecStart= into the command systemd would
// run: the built binary for the installed one, the credentials directory for
// ${CREDENTIALS_DIRECTORY}, and pairs of further replacements for arguments.
func systemdCommand(t *testing.T, u unitFile, credDir string, replace ...string) []string {
	t.Helper()
	argv := u.execStart(t)
	if argv[0] != installedBinary {
		t.Fatalf("ExecStart= runs %s, want %s", argv[0], installedBinary)
	}
	argv[0] = proctest.Binary(t)
	line := substitute(t, "ExecStart=", strings.Join(argv[1:], " "), replace...)
	if !strings.Contains(line, "${CREDENTIALS_DIRECTORY}/config.yml") {
		t.Fatalf("ExecStart= does not read the config credential: %s", line)
	}
	line = strings.ReplaceAll(line, "${CREDENTIALS_DIRECTORY}", credDir)
	return append(argv[:1], strings.Fields(line)...)
}

// startSimulator serves the example config's account on loopback.
func startSimulator(t *testing.T) string {
	t.Helper()
	sim := simulator.New()
	sim.AddAccount(systemdSID, systemdToken, simulator.Generate(systemdSID, 20, time.Now(), 3))
	api := httptest.NewServer(sim)
	t.Cleanup(api.Close)
	return api.URL
}

// checkListing scrapes the exporter: the account is listed with the token
// read from the credential file, and the token shows nowhere.
func checkListing(t *testing.T, p *proctest.Process, addr string) {
	t.Helper()
	u := "http://" + addr + "/metrics"
	if got := metricLines(t, u, "twilio_trusthub_up"); got[`{account="main"}`] != 1 {
		t.Errorf("twilio_trusthub_up = %v, want 1 for account main", got)
	}
	body := readURL(t, u)
	for where, text := range map[string]string{"/metrics": body, "logs": p.Logs.String()} {
		if strings.Contains(text, systemdToken) {
			t.Errorf("the auth token appears in %s", where)
		}
	}
}

// readURL returns the body at u, whatever its status.
func readURL(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The unit's command line, run as systemd would run it, serves the example
// account with the token from the credentials directory; ExecReload= reloads
// the configuration.
func TestSystemdExecStart(t *testing.T) {
	u := parseUnit(t, filepath.Join(systemdDir, serviceUnit))
	credDir := credentialsDir(t, startSimulator(t))
	addr := proctest.FreeAddr(t)
	argv := systemdCommand(t, u, credDir, "--web.listen-address=:10311", "--web.listen-address="+addr)
	p := start(t, "exporter", "http://"+addr+"/-/ready", argv[0], argv[1:]...)
	checkListing(t, p, addr)

	reload := strings.Fields(u["Service"]["ExecReload"][0])
	for i, a := range reload {
		reload[i] = strings.ReplaceAll(a, "$MAINPID", strconv.Itoa(p.Cmd.Process.Pid))
	}
	if out, err := exec.Command(reload[0], reload[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("ExecReload= %q: %v\n%s", reload, err, out)
	}
	waitFor(t, 30*time.Second, "log of the reload", func() (bool, error) {
		return strings.Contains(p.Logs.String(), `msg="configuration reloaded"`), nil
	})
}

// With the socket unit's drop-in, the exporter serves on the socket it is
// handed, as systemd would hand it. systemd-socket-activate passes it with
// the same protocol (LISTEN_FDS), on the first connection.
func TestSystemdSocketActivation(t *testing.T) {
	activate := tool(t, "systemd-socket-activate")
	dropIn := parseUnit(t, filepath.Join(systemdDir, socketDropIn))
	if got := dropIn["Service"]["ExecStart"]; len(got) != 2 || got[0] != "" {
		t.Fatalf("the drop-in's ExecStart= is %q, want an empty one (clearing the unit's) and then the command", got)
	}
	socket := parseUnit(t, filepath.Join(systemdDir, socketUnit))
	if got := socket["Socket"]["ListenStream"]; len(got) != 1 || got[0] != "10311" {
		t.Errorf("the socket listens on %q, want the exporter's port 10311", got)
	}
	credDir := credentialsDir(t, startSimulator(t))
	addr := proctest.FreeAddr(t)
	argv := systemdCommand(t, dropIn, credDir)
	if !strings.Contains(strings.Join(argv, " "), "--web.systemd-socket") {
		t.Fatalf("the drop-in's command does not take the socket: %q", argv)
	}
	p := start(t, "exporter", "http://"+addr+"/-/ready", activate, append([]string{"--listen=" + addr, "--"}, argv...)...)
	checkListing(t, p, addr)
	if !strings.Contains(p.Logs.String(), "Listening on systemd activated listeners") {
		t.Errorf("the exporter did not take the socket:\n%s", p.Logs)
	}
}
