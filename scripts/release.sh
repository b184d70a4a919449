#!/usr/bin/env bash
# Builds the release archives with goreleaser (.goreleaser.yaml) as a snapshot
# into dist/, offline, then checks what came out: the four archives, their
# checksums, their contents, the version stamped into the binary, and that
# each binary is built for the platform its archive names. Exits non-zero
# with the reason on the first failure.
#
# goreleaser is pinned and built from the Go module proxy into .build/bin,
# like golangci-lint in scripts/test.sh: a few minutes the first time, then
# reused while its version matches.
set -euo pipefail
cd "$(dirname "$0")/.."

GORELEASER_VERSION=v2.15.1
project=twilio_trusthub_exporter
goreleaser=.build/bin/goreleaser
platforms=(linux-amd64 linux-arm64 darwin-amd64 darwin-arm64)

log() { printf '\n== %s\n' "$*"; }
fail() {
	printf 'release.sh: FAIL: %s\n' "$*" >&2
	exit 1
}

start=$SECONDS

if ! "$goreleaser" --version 2>/dev/null | grep -Eq "^GitVersion: +${GORELEASER_VERSION}\$"; then
	log "building goreleaser $GORELEASER_VERSION"
	GOBIN="$PWD/.build/bin" go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
	"$goreleaser" --version | grep -Eq "^GitVersion: +${GORELEASER_VERSION}\$" ||
		fail "built goreleaser does not report version $GORELEASER_VERSION"
fi

# goreleaser takes the commit, its date and the branch from git: a clone
# is needed, tags are not (without one it counts from v0.0.0).
git rev-parse --verify HEAD >/dev/null 2>&1 || fail "not a git clone with a commit; goreleaser needs one"
if [ -n "$(git status --porcelain)" ]; then
	# goreleaser builds what is on disk but (without a tag) cannot say so in
	# the version.
	echo "note: uncommitted changes; the archives are stamped with HEAD's commit all the same"
fi

log "goreleaser check"
"$goreleaser" check

# Every module is fetched here, as in scripts/test.sh; the build then runs
# with the module proxy off, which shows that it needs no network.
go mod download
log "goreleaser release --snapshot"
GOPROXY=off "$goreleaser" release --snapshot --clean --skip=publish

log "checking dist/"
# metadata.json is one line of JSON written by goreleaser; its "version" is
# the snapshot version stamped into the binaries.
version=$(grep -o '"version":"[^"]*"' dist/metadata.json | head -n 1 | cut -d'"' -f4)
[ -n "$version" ] || fail "no version in dist/metadata.json"
echo "snapshot version: $version"

# Exactly the four archives, and a checksum file that lists exactly them.
want=$(for p in "${platforms[@]}"; do echo "$project-$version.${p%-*}-${p#*-}.tar.gz"; done | LC_ALL=C sort)
got=$(cd dist && find . -maxdepth 1 -name '*.tar.gz' -printf '%f\n' | LC_ALL=C sort)
[ "$got" = "$want" ] || fail "archives in dist/ are
$got
want
$want"
listed=$(awk '{print $2}' dist/sha256sums.txt | LC_ALL=C sort)
[ "$listed" = "$want" ] || fail "dist/sha256sums.txt lists
$listed
want
$want"
(cd dist && sha256sum --check --strict sha256sums.txt) || fail "checksums do not match"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# What each archive must hold, under one directory named like the archive:
# the binary, the fixed files, and every file of the shipped folders as they
# are on disk (so nothing is missing, and nothing else sneaks in).
files=(LICENSE README.md CHANGELOG.md config.yml.example)
for f in "${files[@]}" alerts/twilio_trusthub.rules.yml dashboards/twilio_trusthub.json; do
	[ -f "$f" ] || fail "$f is missing from the work tree"
done
content=$({
	echo "$project"
	printf '%s\n' "${files[@]}"
	find alerts dashboards examples docs -type f
} | LC_ALL=C sort)

for p in "${platforms[@]}"; do
	os=${p%-*} arch=${p#*-}
	dir=$project-$version.$os-$arch
	archive=dist/$dir.tar.gz
	listing=$(tar -tzf "$archive" | grep -v '/$' | LC_ALL=C sort)
	want_listing=$(while read -r f; do echo "$dir/$f"; done <<<"$content")
	if [ "$listing" != "$want_listing" ]; then
		diff <(echo "$want_listing") <(echo "$listing") >&2 || true
		fail "$archive does not hold the expected files (diff above: < wanted, > found)"
	fi
	mode=$(tar -tvzf "$archive" "$dir/$project" | awk '{print $1}')
	[ "$mode" = "-rwxr-xr-x" ] || fail "$archive: the binary's mode is $mode, want -rwxr-xr-x"
	tar -xzf "$archive" -C "$tmp" "$dir/$project"
	bin=$tmp/$dir/$project

	# The binary is for the platform its archive names, read from its header:
	# ELF e_machine (x86-64 62, AArch64 183), or Mach-O 64-bit magic and CPU
	# type (x86-64 0x01000007, arm64 0x0100000c), all little-endian.
	header=$(od -An -tx1 -N20 "$bin" | tr -d ' \n')
	case $p in
	linux-amd64) magic='7f454c46' machine='3e00' machine_at=36 ;;
	linux-arm64) magic='7f454c46' machine='b700' machine_at=36 ;;
	darwin-amd64) magic='cffaedfe' machine='07000001' machine_at=8 ;;
	darwin-arm64) magic='cffaedfe' machine='0c000001' machine_at=8 ;;
	esac
	if [ "${header:0:8}" != "$magic" ] || [ "${header:machine_at:${#machine}}" != "$machine" ]; then
		fail "$archive: the binary is not a $os/$arch executable (header $header)"
	fi
	if command -v file >/dev/null 2>&1; then
		echo "$dir: $(file -b "$bin")"
	else
		echo "$dir: header $header"
	fi
done

# Run the binary of this machine's platform, if there is one, and check that
# --version shows what goreleaser stamped.
case $(uname -s)-$(uname -m) in
Linux-x86_64) host=linux-amd64 ;;
Linux-aarch64 | Linux-arm64) host=linux-arm64 ;;
Darwin-x86_64) host=darwin-amd64 ;;
Darwin-arm64) host=darwin-arm64 ;;
*) host= ;;
esac
if [ -z "$host" ]; then
	echo "no archive for $(uname -s)/$(uname -m): --version not run"
else
	dir=$project-$version.${host%-*}-${host#*-}
	out=$("$tmp/$dir/$project" --version 2>&1) || fail "$dir: --version failed: $out"
	echo "$out"
	revision=$(git rev-parse HEAD)
	grep -qF "$project, version $version (branch: " <<<"$out" || fail "$dir: --version does not show version $version"
	grep -qF "revision: $revision)" <<<"$out" || fail "$dir: --version does not show revision $revision"
	grep -qE '^ +build user: +goreleaser$' <<<"$out" || fail "$dir: --version does not show build user goreleaser"
	grep -qE "^ +platform: +${host%-*}/${host#*-}\$" <<<"$out" || fail "$dir: --version does not show platform ${host%-*}/${host#*-}"
fi

log "release archives OK in $((SECONDS - start)) s"
ls -l dist/*.tar.gz dist/sha256sums.txt
