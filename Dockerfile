# Multi-stage build: a static binary on a distroless, non-root base.
#   docker build -t twilio_trusthub_exporter --build-arg VERSION=0.1.0 .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION} -X github.com/prometheus/common/version.Revision=${REVISION}" \
      -o /out/twilio_trusthub_exporter .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/twilio_trusthub_exporter /bin/twilio_trusthub_exporter
USER nonroot:nonroot
EXPOSE 10311
ENTRYPOINT ["/bin/twilio_trusthub_exporter"]
