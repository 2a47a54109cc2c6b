# syntax=docker/dockerfile:1
#
# Silo in a container: a static binary (no cgo) on a distroless base, run as
# a non-root user, records and bytes in the /data volume, listening on
# 0.0.0.0:8080 -- so it refuses to start without API keys: set SILO_API_KEYS,
# or mount a keys file and set SILO_API_KEYS_FILE (see README, Deployment).
#
#   docker build -t silo --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run -d --name silo -p 8080:8080 -v silo-data:/data \
#     -e SILO_API_KEYS=sk-change-me --stop-timeout 40 silo
#   docker kill -s HUP silo     # re-read the keys file and the TLS certificate
#
# buildah and podman keep HEALTHCHECK only with --format docker (OCI images
# have no such field).

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# The image has no .git: the version comes from the build arguments.
ARG VERSION=""
ARG REVISION=""
ARG BUILD_TIME=""
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags="-s -w \
        -X github.com/silo-dev/silo/internal/version.version=${VERSION} \
        -X github.com/silo-dev/silo/internal/version.revision=${REVISION} \
        -X github.com/silo-dev/silo/internal/version.buildTime=${BUILD_TIME}" \
      -o /out/silo ./cmd/silo \
 && mkdir /out/data

# static-debian12 holds CA certificates (for S3 over HTTPS), tzdata and
# /etc/passwd with the nonroot user (65532), and no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/silo /usr/local/bin/silo
COPY --from=build --chown=65532:65532 /out/data /data
ENV SILO_ADDR=0.0.0.0:8080 SILO_DATA=/data
VOLUME /data
EXPOSE 8080
USER 65532:65532
# No curl in the image: silo asks its own /healthz (https when SILO_TLS_CERT is set).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 CMD ["silo", "healthcheck"]
# SIGTERM lets requests in flight finish, for up to SILO_SHUTDOWN_WAIT (30s):
# give docker stop a longer --stop-timeout (or stop_grace_period) than that.
STOPSIGNAL SIGTERM
ENTRYPOINT ["silo"]
CMD ["serve"]
