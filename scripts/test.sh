#!/usr/bin/env bash
# Installs what the tests need, then runs every check and test: gofmt, go vet,
# golangci-lint, a short fuzz run of each parser, and the whole suite under the race
# detector, including the alert rule tests and the end-to-end pipeline through
# a real Prometheus and Alertmanager. On a fresh Debian machine with Go this
# is all the set-up there is.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

# Debian packages the tests need: a C compiler for the race detector (cgo);
# Prometheus with promtool, and Alertmanager with amtool, for the rule tests
# and the end-to-end pipeline (e2e/). Installed only when missing.
need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	apt-get update -qq
	# The packages' services are not started: the tests run their own.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
export CGO_ENABLED=1

log "go modules"
go mod download
go mod verify

log "gofmt"
unformatted=$(gofmt -l $(find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

log "go vet"
go vet ./...

# golangci-lint, pinned, built from the Go module proxy into .build/bin
# (a couple of minutes the first time, then cached).
GOLANGCI_LINT_VERSION=v2.15.0
lint=.build/bin/golangci-lint
if ! "$lint" version 2>/dev/null | grep -q "version ${GOLANGCI_LINT_VERSION#v}"; then
	log "building golangci-lint $GOLANGCI_LINT_VERSION"
	GOBIN="$PWD/.build/bin" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION"
fi
log "golangci-lint"
"$lint" run ./...

# Short fuzz runs; a crasher lands in testdata/fuzz and fails the run.
log "fuzz"
go test -run '^$' -fuzz '^FuzzDecodePage$' -fuzztime "${FUZZTIME:-15s}" ./trusthub
go test -run '^$' -fuzz '^FuzzParse$' -fuzztime "${FUZZTIME:-15s}" ./config

log "go test -race"
go test -race -count=1 ./...
