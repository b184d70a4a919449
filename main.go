// Command twilio_trusthub_exporter exports to Prometheus the review status,
// expiry and rejection codes of Twilio's compliance objects: TrustHub
// Customer-Profiles and Trust Products, A2P brand registrations, A2P
// campaigns and toll-free verifications.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/exporter"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/server"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

const (
	programName = "twilio_trusthub_exporter"
	// The 9100-9999 exporter range is fully allocated; this port is outside it.
	defaultAddress = ":10311"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	app := kingpin.New(programName, "Prometheus exporter for Twilio compliance objects: TrustHub Customer-Profiles and Trust Products, A2P brand registrations, A2P campaigns and toll-free verifications.")
	var (
		configFile    = app.Flag("config.file", "YAML configuration file. Without it, one account is read from TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or TWILIO_API_KEY with TWILIO_API_SECRET.").String()
		configCheck   = app.Flag("config.check", "Check the configuration, print only the verdict and exit: on stdout with 0 if it is valid, on stderr with the reason and 1 if not.").Bool()
		demo          = app.Flag("demo", "Serve a built-in simulated Twilio with generated objects of every kind (Customer-Profiles, Trust Products, A2P brand registrations, A2P campaigns, toll-free verifications) and export it; needs no Twilio account.").Bool()
		telemetryPath = app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
		selfPath      = app.Flag("web.exporter-telemetry-path", "Path under which to expose the exporter's own metrics alone (Go, process, build, reload), no account's: scrape it once per replica when the accounts are probed at /probe. Empty: not served.").Default("/exporter-metrics").String()
		maxRequests   = app.Flag("web.max-requests", "Maximum number of concurrent scrapes; 0 disables the limit.").Default("40").Int()
		enablePprof   = app.Flag("web.enable-pprof", "Serve Go's runtime profiles under /debug/pprof/, behind the same web config as the rest.").Bool()
		timeoutOffset = app.Flag("scrape.timeout-offset", "Time kept back from Prometheus' scrape timeout so the answer arrives in time.").Default("500ms").Duration()
		logLevel      = app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").Default("info").Enum("debug", "info", "warn", "error")
		logFormat     = app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").Default("logfmt").Enum("logfmt", "json")
		webFlags      = kingpinflag.AddFlags(app, defaultAddress)
	)
	if version.Version == "" {
		// Built without -ldflags: use what the go command recorded
		// ("(devel)", or the module version under go install), so that the
		// User-Agent and build_info still name a version.
		if bi, ok := debug.ReadBuildInfo(); ok {
			version.Version = bi.Main.Version
		}
	}
	app.Version(version.Print(programName))
	app.HelpFlag.Short('h')
	app.UsageWriter(stderr)
	app.ErrorWriter(stderr)
	if slices.Contains(args, "--help-man") {
		return manPage(app, args, stdout, stderr)
	}
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", programName, err)
		return 2
	}
	if *configCheck {
		return checkConfig(*configFile, *demo, stdout, stderr)
	}
	logger, slogger := newLoggers(stderr, *logLevel, *logFormat)
	level.Info(logger).Log("msg", "starting "+programName, "version", version.Info(), "build_context", version.BuildContext())

	load, cleanup, err := configSource(*configFile, *demo)
	if err != nil {
		level.Error(logger).Log("msg", "configuration refused", "err", err)
		return 1
	}
	defer cleanup()

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector(programName),
	)
	build := func(cfg *config.Config) (server.Runtime, error) {
		return exporter.New(cfg, exporter.Options{UserAgent: programName + "/" + version.Version, Logger: logger, Registerer: reg})
	}
	rel, err := server.NewReloader(load, build, reg, logger)
	if err != nil {
		level.Error(logger).Log("msg", "configuration refused", "err", err)
		return 1
	}
	defer rel.Close()
	handler, err := server.New(reg, rel, server.Options{
		Name: programName, Version: shortVersion(), TelemetryPath: *telemetryPath, ExporterTelemetryPath: *selfPath,
		MaxRequests: *maxRequests, TimeoutOffset: *timeoutOffset, EnablePprof: *enablePprof, Logger: logger,
	})
	if err != nil {
		level.Error(logger).Log("msg", "cannot build the HTTP handler", "err", err)
		return 1
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			_ = rel.Reload() // logs its outcome
		}
	}()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- web.ListenAndServe(srv, webFlags, slogger) }()
	select {
	case err := <-served:
		level.Error(logger).Log("msg", "HTTP server failed", "err", err)
		return 1
	case <-ctx.Done():
	}
	level.Info(logger).Log("msg", "shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		level.Error(logger).Log("msg", "shutdown", "err", err)
		return 1
	}
	return 0
}

// configSource picks where the configuration comes from: the demo's, the
// file's, or the environment's. load is called at start and on each reload;
// cleanup stops the demo simulator.
func configSource(file string, demo bool) (load func() (*config.Config, error), cleanup func(), err error) {
	switch {
	case demo && file != "":
		return nil, nil, errors.New("--demo and --config.file exclude each other: the demo brings its own accounts")
	case demo:
		d, err := simulator.StartDemo(time.Now())
		if err != nil {
			return nil, nil, err
		}
		return d.Config, func() { _ = d.Close() }, nil
	case file != "":
		return func() (*config.Config, error) { return config.Load(file) }, func() {}, nil
	default:
		return func() (*config.Config, error) { return config.FromEnv(os.Getenv) }, func() {}, nil
	}
}

// checkConfig loads the configuration once and prints only the verdict: on
// stdout when it is valid (exit 0; its warnings, such as a deprecated key,
// on stderr), on stderr with the reason when it is not (exit 1), so that a
// script can tell them apart without parsing logs.
func checkConfig(file string, demo bool, stdout, stderr io.Writer) int {
	load, cleanup, err := configSource(file, demo)
	if err == nil {
		defer cleanup()
		var cfg *config.Config
		if cfg, err = load(); err == nil {
			fmt.Fprintf(stdout, "configuration valid: %d account(s)\n", len(cfg.Accounts))
			for _, w := range cfg.Warnings {
				fmt.Fprintf(stderr, "configuration warning: %s\n", w)
			}
			return 0
		}
	}
	fmt.Fprintf(stderr, "configuration refused: %v\n", err)
	return 1
}

// manPage writes the man page. kingpin's own --help-man puts the --version
// text, which spans several lines, unquoted into the .TH line and breaks
// the page; this is kingpin's template with a .TH line of quoted one-line
// fields: title, section, date, source, manual.
func manPage(app *kingpin.Application, args []string, stdout, stderr io.Writer) int {
	const kingpinTH = `.TH {{.App.Name}} 1 {{.App.Version}} "{{.App.Author}}"`
	if !strings.Contains(kingpin.ManPageTemplate, kingpinTH) {
		fmt.Fprintf(stderr, "%s: kingpin's man page template has changed; --help-man needs updating\n", programName)
		return 1
	}
	th := fmt.Sprintf(`.TH %s 1 "%s" "%s %s" "User Commands"`, programName, manField(version.BuildDate), programName, manField(version.Version))
	ctx, err := app.ParseContext(args)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", programName, err)
		return 2
	}
	app.UsageWriter(stdout)
	if err := app.UsageForContextWithTemplate(ctx, 2, strings.Replace(kingpin.ManPageTemplate, kingpinTH, th, 1)); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", programName, err)
		return 1
	}
	return 0
}

// manField keeps what can stand in a quoted roff argument and in a
// text/template without meaning anything there: no quotes, backslashes or
// braces, one line.
func manField(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"' || r == '\\' || r == '{' || r == '}' || r < ' ':
			return -1
		}
		return r
	}, s)
}

// newLoggers returns the go-kit logger the packages log through and the slog
// logger exporter-toolkit wants. One promslog handler writes the lines of
// both, so that every line has the same keys in the same order (time, level,
// source, msg, then the rest), in logfmt and in JSON alike: the format of
// Prometheus itself.
func newLoggers(w io.Writer, lvl, format string) (log.Logger, *slog.Logger) {
	l, f := promslog.NewLevel(), promslog.NewFormat()
	_ = l.Set(lvl) // kingpin allowed only valid names
	_ = f.Set(format)
	slogger := promslog.New(&promslog.Config{Level: l, Format: f, Writer: w})
	return kitLogger{h: slogger.Handler()}, slogger
}

// kitLogger is a go-kit logger that hands each line to an slog handler: the
// level value becomes the record's level, msg its message, the other pairs
// its attributes in their order, and the first caller outside go-kit its
// source.
type kitLogger struct{ h slog.Handler }

func (k kitLogger) Log(keyvals ...any) error {
	lvl, msg := slog.LevelInfo, ""
	attrs := make([]slog.Attr, 0, len(keyvals)/2)
	for i := 0; i < len(keyvals); i += 2 {
		key, val := fmt.Sprint(keyvals[i]), any(log.ErrMissingValue)
		if i+1 < len(keyvals) {
			val = keyvals[i+1]
		}
		if v, ok := val.(level.Value); ok && key == fmt.Sprint(level.Key()) {
			lvl = slogLevel(v)
			continue
		}
		if key == "msg" && msg == "" {
			msg = fmt.Sprint(val)
			continue
		}
		attrs = append(attrs, slog.Any(key, val))
	}
	ctx := context.Background()
	if !k.h.Enabled(ctx, lvl) {
		return nil
	}
	r := slog.NewRecord(time.Now(), lvl, msg, kitCaller())
	r.AddAttrs(attrs...)
	return k.h.Handle(ctx, r)
}

func slogLevel(v level.Value) slog.Level {
	switch v.String() {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// kitCaller returns the program counter of the code that called go-kit's
// Log, found by skipping go-kit's frames: how many there are depends on
// how the logger was wrapped (log.With, level.Info).
func kitCaller() uintptr {
	var pcs [16]uintptr
	n := runtime.Callers(3, pcs[:]) // runtime.Callers, kitCaller, kitLogger.Log
	for _, pc := range pcs[:n] {
		if fn := runtime.FuncForPC(pc - 1); fn == nil || !strings.HasPrefix(fn.Name(), "github.com/go-kit/log") {
			return pc
		}
	}
	return 0
}

// shortVersion names the build for the status page in a few words: the
// version, and the first 12 characters of the revision when one was stamped
// (version.Info()'s "(version=..., branch=..., revision=...)" reads poorly
// there).
func shortVersion() string {
	v := version.Version
	if r := version.Revision; r != "" && r != "unknown" {
		v += " (" + r[:min(len(r), 12)] + ")"
	}
	return v
}
