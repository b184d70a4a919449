#!/usr/bin/env bash
# Installs what the tests need, then runs every check and test: gofmt, go vet,
# the whole suite under the race detector, and a short fuzz run of each parser.
# On a fresh Debian machine with Go this is all the set-up there is.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

# The race detector needs cgo, so a C compiler.
if ! command -v gcc >/dev/null 2>&1; then
	log "installing gcc (the race detector needs cgo)"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null
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

# Short fuzz runs; a crasher lands in testdata/fuzz and fails the run.
log "fuzz"
go test -run '^$' -fuzz '^FuzzDecodePage$' -fuzztime "${FUZZTIME:-15s}" ./trusthub
go test -run '^$' -fuzz '^FuzzParse$' -fuzztime "${FUZZTIME:-15s}" ./config

log "go test -race"
go test -race -count=1 ./...
