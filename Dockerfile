# Multi-stage build: a static binary on a distroless, non-root base, for
# every platform at once. The Go compiler runs on the build machine's own
# platform ($BUILDPLATFORM) and cross-compiles for each target (TARGETOS,
# TARGETARCH, set by BuildKit from --platform), so an arm64 image built on
# amd64 needs no emulation.
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     -t REGISTRY/twilio_trusthub_exporter:0.1.0 --push \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg BRANCH="$(git rev-parse --abbrev-ref HEAD)" \
#     --build-arg BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)" .
# Dockerfile.goreleaser makes the same image from goreleaser's binaries.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_DATE=unknown
ARG TARGETOS TARGETARCH
# The same variables and flags as .goreleaser.yaml, so --version and
# twilio_trusthub_exporter_build_info read alike for an image and an archive.
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.Branch=${BRANCH} \
        -X github.com/prometheus/common/version.BuildUser=docker \
        -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" \
      -o /out/twilio_trusthub_exporter .

FROM gcr.io/distroless/static-debian12:nonroot
# ARGs end with their stage; declared again for the labels.
ARG VERSION=dev
ARG REVISION=unknown
ARG BUILD_DATE=unknown
LABEL org.opencontainers.image.title="twilio_trusthub_exporter" \
      org.opencontainers.image.description="Prometheus exporter for Twilio compliance objects: TrustHub Customer-Profiles and Trust Products, A2P brand registrations, A2P campaigns and toll-free verifications (review status, expiry, rejection codes)." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/twilio-trusthub-exporter/twilio_trusthub_exporter" \
      org.opencontainers.image.url="https://github.com/twilio-trusthub-exporter/twilio_trusthub_exporter" \
      org.opencontainers.image.documentation="https://github.com/twilio-trusthub-exporter/twilio_trusthub_exporter/blob/main/README.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${BUILD_DATE}"
COPY --from=build /out/twilio_trusthub_exporter /bin/twilio_trusthub_exporter
COPY LICENSE /LICENSE
# distroless' nonroot user, by number so that Kubernetes' runAsNonRoot can
# verify it. Mounted config and token files must be readable by uid 65532.
USER 65532:65532
EXPOSE 10311
# Exec form: the exporter is PID 1 and gets SIGTERM and SIGHUP (reload)
# directly; arguments after the image name are its flags.
ENTRYPOINT ["/bin/twilio_trusthub_exporter"]
