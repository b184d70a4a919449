// Command twilio_trusthub_exporter exports the review status, expiry and
// rejection codes of Twilio TrustHub Customer-Profiles to Prometheus.
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
	"runtime/debug"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
	sloggokit "github.com/tjhop/slog-gokit"

	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/collector"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/config"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/server"
	"github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/simulator"
)

const (
	programName = "twilio_trusthub_exporter"
	// The 9100-9999 exporter range is fully allocated; this port is outside it.
	defaultAddress = ":10311"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	app := kingpin.New(programName, "Prometheus exporter for Twilio TrustHub Customer-Profiles.")
	var (
		configFile    = app.Flag("config.file", "YAML configuration file. Without it, one account is read from TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or TWILIO_API_KEY with TWILIO_API_SECRET.").String()
		configCheck   = app.Flag("config.check", "Validate the configuration and exit: 0 if it is valid, 1 with the reason if not.").Bool()
		demo          = app.Flag("demo", "Serve a built-in simulated TrustHub with generated profiles and export it; needs no Twilio account.").Bool()
		telemetryPath = app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
		maxRequests   = app.Flag("web.max-requests", "Maximum number of concurrent scrapes; 0 disables the limit.").Default("40").Int()
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
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", programName, err)
		return 2
	}
	logger, slogger := newLoggers(stderr, *logLevel, *logFormat)
	level.Info(logger).Log("msg", "starting "+programName, "version", version.Info(), "build_context", version.BuildContext())

	load, cleanup, err := configSource(*configFile, *demo)
	if err != nil {
		level.Error(logger).Log("msg", "configuration refused", "err", err)
		return 1
	}
	defer cleanup()
	if *configCheck {
		cfg, err := load()
		if err != nil {
			fmt.Fprintf(stderr, "configuration refused: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "configuration valid: %d account(s)\n", len(cfg.Accounts))
		return 0
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector(programName),
	)
	build := func(cfg *config.Config) (*collector.Exporter, error) {
		return collector.New(cfg, collector.Options{UserAgent: programName + "/" + version.Version, Logger: logger})
	}
	rel, err := server.NewReloader(load, build, reg, logger)
	if err != nil {
		level.Error(logger).Log("msg", "configuration refused", "err", err)
		return 1
	}
	defer rel.Close()
	handler, err := server.New(reg, rel, server.Options{
		Name: programName, Version: version.Info(), TelemetryPath: *telemetryPath,
		MaxRequests: *maxRequests, TimeoutOffset: *timeoutOffset, Logger: logger,
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

// newLoggers returns the go-kit logger and an slog view of it for
// exporter-toolkit, filtered at the same level.
func newLoggers(w io.Writer, lvl, format string) (log.Logger, *slog.Logger) {
	var base log.Logger
	if format == "json" {
		base = log.NewJSONLogger(log.NewSyncWriter(w))
	} else {
		base = log.NewLogfmtLogger(log.NewSyncWriter(w))
	}
	var slogLevel slog.Level
	_ = slogLevel.UnmarshalText([]byte(lvl)) // kingpin allowed only valid names
	// The slog handler adds its own time and caller.
	slogger := slog.New(sloggokit.NewGoKitHandler(base, slogLevel))
	logger := level.NewFilter(base, level.Allow(level.ParseDefault(lvl, level.InfoValue())))
	logger = log.With(logger, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller)
	return logger, slogger
}
