#!/usr/bin/env bash
# Generates the shipped rules (alerts/twilio_trusthub.rules.yml) and the
# dashboard (dashboards/twilio_trusthub.json) from the monitoring mixin in
# mixin/: first the mixin's copy of the exporter's kinds, then the mixin
# itself, evaluated with go-jsonnet (a tool of the mixin's own Go module,
# not a dependency of the exporter). The generated files are committed; the
# tests fail when they differ from a fresh generation.
set -euo pipefail
cd "$(dirname "$0")/.."
go test ./kinds -run '^TestMixinKinds$' -count=1 -update >/dev/null
go -C mixin run . -out ..
