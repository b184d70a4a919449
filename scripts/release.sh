#!/usr/bin/env bash
# Builds the release archives with goreleaser (.goreleaser.yaml) as a snapshot
# into dist/, offline, then checks what came out: the four archives, their
# checksums, their contents, the version stamped into the binary, that each
# binary is built for the platform its archive names, and each archive's
# SBOM. Exits non-zero with the reason on the first failure.
#
# The image (dockers_v2) cannot be built here, with no container engine: a
# stand-in `docker` on PATH records the `docker buildx build` that goreleaser
# runs and the build context it hands over, and the script checks those
# (platforms, tags, build arguments, that every file Dockerfile.goreleaser
# copies is in the context, for each platform). No image is built or pushed.
#
# goreleaser and cyclonedx-gomod are pinned and built from the Go module
# proxy into .build/bin, like golangci-lint in scripts/test.sh: a few minutes
# the first time, then reused while their versions match.
set -euo pipefail
cd "$(dirname "$0")/.."

GORELEASER_VERSION=v2.15.1
CYCLONEDX_GOMOD_VERSION=v1.10.0
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

# The module version recorded in the binary says which one it is.
if ! go version -m .build/bin/cyclonedx-gomod 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/CycloneDX/cyclonedx-gomod[[:space:]]+${CYCLONEDX_GOMOD_VERSION}[[:space:]]"; then
	log "building cyclonedx-gomod $CYCLONEDX_GOMOD_VERSION"
	GOBIN="$PWD/.build/bin" go install "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$CYCLONEDX_GOMOD_VERSION"
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

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The stand-in docker: no daemon (`docker info` fails, so goreleaser builds
# every platform in one buildx call without --load), a docker-container
# buildx driver, and a `buildx build` that saves its arguments and its
# context (the working directory goreleaser gives it) and writes the image
# ID file goreleaser reads back.
mkdir -p "$tmp/stub" "$tmp/image"
cat >"$tmp/stub/docker" <<STUB
#!/usr/bin/env bash
case "\$1 \$2" in
"buildx inspect") echo "Driver: docker-container" ;;
"buildx build")
	printf '%s\n' "\$@" >"$tmp/image/args"
	cp -R . "$tmp/image/context"
	echo "sha256:0000000000000000000000000000000000000000000000000000000000000000" >id.txt
	;;
*) echo "stand-in docker: \$* is not available here" >&2; exit 1 ;;
esac
STUB
chmod +x "$tmp/stub/docker"

# goreleaser reads the commit, branch and date only when it can also read a
# remote's URL; in a clone without a remote (a local worktree) it stamps
# "none" instead. The project's URL is then given to its git commands alone,
# through git's environment configuration, leaving the repository as it is.
if [ -z "$(git remote)" ]; then
	export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url
	export GIT_CONFIG_VALUE_0=https://github.com/twilio-trusthub-exporter/twilio_trusthub_exporter.git
fi

log "goreleaser release --snapshot"
PATH="$PWD/.build/bin:$tmp/stub:$PATH" GOPROXY=off "$goreleaser" release --snapshot --clean --skip=publish

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
# Checksums cover the archives and their binaries' SBOMs.
want_listed=$(for a in $want; do echo "$a"; echo "${a%.tar.gz}.sbom.json"; done | LC_ALL=C sort)
listed=$(awk '{print $2}' dist/sha256sums.txt | LC_ALL=C sort)
[ "$listed" = "$want_listed" ] || fail "dist/sha256sums.txt lists
$listed
want
$want_listed"
(cd dist && sha256sum --check --strict sha256sums.txt) || fail "checksums do not match"

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

# Each binary's SBOM: CycloneDX JSON naming the exporter at the version,
# and listing the modules of go.mod that the binary holds, at go.mod's
# versions. (Its purls' goos and goarch are cyclonedx-gomod's own platform,
# not the binary's: they are not checked.)
for a in $want; do
	sbom=dist/${a%.tar.gz}.sbom.json
	[ -s "$sbom" ] || fail "$sbom is missing"
	grep -q '"bomFormat": *"CycloneDX"' "$sbom" || fail "$sbom is not CycloneDX JSON"
	grep -qF '"name": "github.com/twilio-trusthub-exporter/twilio_trusthub_exporter"' "$sbom" || fail "$sbom does not name the exporter's module"
	grep -qF "\"version\": \"$version\"" "$sbom" || fail "$sbom does not give version $version"
	for mod in github.com/prometheus/client_golang github.com/prometheus/exporter-toolkit go.yaml.in/yaml/v3; do
		v=$(go list -m -f '{{.Version}}' "$mod")
		grep -qF "pkg:golang/$mod@$v?" "$sbom" || fail "$sbom does not list $mod $v"
	done
done
echo "SBOMs: $(echo "$want" | wc -l) CycloneDX documents, each listing its binary's modules"

# The image: what goreleaser handed buildx.
[ -s "$tmp/image/args" ] || fail "goreleaser did not run docker buildx build for dockers_v2"
args=$(cat "$tmp/image/args")
grep -qxF -- "--platform" <<<"$args" && grep -qxF "linux/amd64,linux/arm64" <<<"$args" ||
	fail "the image is not built for linux/amd64 and linux/arm64 at once:
$args"
grep -qxF "ghcr.io/twilio-trusthub-exporter/twilio_trusthub_exporter:$version" <<<"$args" ||
	fail "the image is not tagged $version:
$args"
for arg in "VERSION=$version" "REVISION=$(git rev-parse HEAD)"; do
	grep -qxF "$arg" <<<"$args" || fail "build argument $arg missing:
$args"
done
ctxdir=$tmp/image/context
cmp -s "$ctxdir/Dockerfile" Dockerfile.goreleaser || fail "the build context's Dockerfile is not Dockerfile.goreleaser"
# Every COPY source of the Dockerfile, for each platform, is in the context,
# and each binary is the one goreleaser built for that platform.
for p in linux/amd64 linux/arm64; do
	while read -r src; do
		src=${src//\$TARGETPLATFORM/$p}
		[ -e "$ctxdir/$src" ] || fail "Dockerfile.goreleaser copies $src, which is not in the build context for $p"
	done < <(awk '$1 == "COPY" && $2 !~ /^--/ {print $2}' Dockerfile.goreleaser)
	built=$(find dist -path "*_${p%/*}_${p#*/}*/$project" -type f | head -n 1)
	[ -n "$built" ] && cmp -s "$ctxdir/$p/$project" "$built" || fail "the context's $p/$project is not goreleaser's $p binary"
done
echo "image: $(grep -c -- '^-t$' <<<"$args") tag(s) for linux/amd64,linux/arm64; context: $(cd "$ctxdir" && find . -type f | LC_ALL=C sort | tr '\n' ' ')"

log "release archives OK in $((SECONDS - start)) s"
ls -l dist/*.tar.gz dist/sha256sums.txt
