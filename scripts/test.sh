#!/usr/bin/env bash
# Installs what the tests need, then runs every check and test: gofmt, go vet,
# golangci-lint, a short fuzz run of each parser, and the whole suite under the race
# detector, including the alert rule tests and the end-to-end pipeline through
# a real Prometheus and Alertmanager. On a fresh Debian machine with Go this
# is all the set-up there is.
set -euo pipefail
cd "$(dirname "$0")/.."

# This script installs or builds every program the tests need, so a test
# that finds one missing must fail, not skip: CI=true is how the tests know.
export CI="${CI:-true}"

log() { printf '\n== %s\n' "$*"; }

# Debian packages the tests need: a C compiler for the race detector (cgo);
# Prometheus with promtool, and Alertmanager with amtool, for the rule tests
# and the end-to-end pipeline (e2e/). Installed only when missing.
need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
# systemd-analyze and systemd-socket-activate, for the systemd unit tests
# (e2e/systemd_test.go); man, to render the --help-man page; Chromium, for the
# status page test in a real browser.
command -v systemd-analyze >/dev/null 2>&1 && command -v systemd-socket-activate >/dev/null 2>&1 || need+=(systemd)
command -v man >/dev/null 2>&1 || need+=(man-db)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	apt-get update -qq
	# The packages' services are not started: the tests run their own.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
export CGO_ENABLED=1

# The exporter's module (.), and beside it modules of their own, so that what
# only they need is no dependency of the exporter: the monitoring mixin's
# generator (mixin/, go-jsonnet), the chart tests (charts/, Helm and the
# Kubernetes API types) and the end-to-end tests (e2e/, chromedp and the
# Grafana SDK). charts/ and e2e/ use the exporter's module from this checkout
# (a replace directive), so they test the code beside them.
modules=(. mixin charts e2e)

log "go modules"
for m in "${modules[@]}"; do
	go -C "$m" mod download
	go -C "$m" mod verify
	# A requirement that no package needs any more, or a missing one, fails
	# here rather than weighing on the exporter's go.mod unnoticed.
	go -C "$m" mod tidy -diff
done

log "gofmt"
unformatted=$(gofmt -l $(find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

log "go vet"
for m in "${modules[@]}"; do
	go -C "$m" vet ./...
done

# golangci-lint, pinned, built from the Go module proxy into .build/bin
# (a couple of minutes the first time, then cached).
GOLANGCI_LINT_VERSION=v2.15.0
lint="$PWD/.build/bin/golangci-lint"
if ! "$lint" version 2>/dev/null | grep -q "version ${GOLANGCI_LINT_VERSION#v}"; then
	log "building golangci-lint $GOLANGCI_LINT_VERSION"
	GOBIN="$PWD/.build/bin" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION"
fi
log "golangci-lint"
# ./... stops at a nested module, so each module is linted from its own
# directory (with the one .golangci.yml, found in the parent).
for m in "${modules[@]}"; do
	(cd "$m" && "$lint" run ./...)
done

# Short fuzz runs; a crasher lands in testdata/fuzz and fails the run.
# -fuzzminimizetime 0: by default each input that finds new coverage is first
# minimised, for up to 60 s, and in a window this short that left the
# workers minimising instead of fuzzing (8 executions in 15 s). A crasher is
# still saved, just not minimised.
# Each run starts from the seeds (f.Add and testdata/fuzz) in a cache
# directory of its own: the go command's shared fuzz cache grows with every
# run, and replaying it for baseline coverage comes out of the same window
# (over 2 s at 300 entries). -test.fuzzcachedir is the flag go test sets
# itself; the one after -args comes later and wins.
# The run reports its executions and fails if there were implausibly few
# (FUZZ_MIN_EXECS), so that it cannot pass again without having fuzzed.
log "fuzz"
fuzz() { # package target
	local out execs cache
	cache=$(mktemp -d)
	if ! out=$(go test -run '^$' -fuzz "^$2\$" -fuzztime "${FUZZTIME:-15s}" -fuzzminimizetime 0 "$1" -args -test.fuzzcachedir="$cache" 2>&1); then
		rm -rf "$cache"
		echo "$out"
		return 1
	fi
	rm -rf "$cache"
	execs=$(sed -n 's/^fuzz: elapsed: .*, execs: \([0-9]*\) .*/\1/p' <<<"$out" | tail -n 1)
	echo "$2: ${execs:-0} executions in ${FUZZTIME:-15s}"
	if [ "${execs:-0}" -lt "${FUZZ_MIN_EXECS:-1000}" ]; then
		echo "$out" >&2
		echo "$2: fewer than ${FUZZ_MIN_EXECS:-1000} executions: that was not fuzzing" >&2
		return 1
	fi
}
fuzz ./twilio FuzzDecodePage
fuzz ./config FuzzParse

# Prometheus 3, for the end-to-end pipeline (e2e/) beside Debian's 2.x:
# built from its Go module (about 9 minutes on 2 cores the first time, a
# link from the Go build cache after that) into .build/, and reused while
# the version matches.
PROMETHEUS3_VERSION=v0.316.0
prom3_dir=.build/prometheus-$PROMETHEUS3_VERSION
if ! "$prom3_dir/prometheus" --version 2>/dev/null | grep -q "^prometheus, version 3\." ||
	! "$prom3_dir/promtool" --version 2>/dev/null | grep -q "^promtool, version 3\."; then
	log "building Prometheus 3 ($PROMETHEUS3_VERSION)"
	# The module's v0.3MM.P is Prometheus 3.MM.P; go install stamps no
	# version, so name it as Prometheus' own release build would.
	minor_patch=${PROMETHEUS3_VERSION#v0.3}
	prom3_release="3.$((10#${minor_patch%%.*})).${minor_patch#*.}"
	GOBIN="$PWD/$prom3_dir" go install -ldflags "-X github.com/prometheus/common/version.Version=$prom3_release" \
		"github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS3_VERSION" \
		"github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS3_VERSION"
fi
export PROMETHEUS3_BINARY="$PWD/$prom3_dir/prometheus"
export PROMTOOL3_BINARY="$PWD/$prom3_dir/promtool"

# Release archives with goreleaser (pinned, built into .build/bin), checked:
# four platforms, checksums, contents, the stamped version.
log "release archives"
bash scripts/release.sh

log "go test -race"
# The mixin's tests include that alerts/ and dashboards/ are what it
# generates now; e2e/ holds the end-to-end tests, the slowest by far.
for m in "${modules[@]}"; do
	go -C "$m" test -race -count=1 ./...
done
