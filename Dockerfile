# arrsd as a container image: a static binary on an empty base.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) \
#                --build-arg COMMIT=$(git rev-parse HEAD) -t arrs .
#   (or: make image)
#
# The image holds /arrsd, /grpc-health-probe (for health checks: there is no
# shell), the CA bundle (for the identity provider's JWKS and an OTLP
# collector over HTTPS) and nothing else. Time zone data is compiled into
# arrsd (package claims imports time/tzdata), so none is copied. It runs as
# the unprivileged numeric user 65532, so it can run with a read-only root
# filesystem; ARRS_DATA_DIR=/data is writable for the development signing
# key only. It listens on every interface, as a container must, and defaults
# to ARRS_ENVIRONMENT=production: it refuses to start without an identity
# provider unless told it is a development deployment (compose.yaml does).
# See docs/operating.md.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
# The app's modules first, so a source change does not download them again.
# (The health probe's come from tools/go.mod, fetched by its build below.)
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -buildvcs=false -o /out/arrsd \
      -ldflags "-s -w -X arrs.nhs.uk/arrs/internal/buildinfo.version=${VERSION} -X arrs.nhs.uk/arrs/internal/buildinfo.commit=${COMMIT}" \
      ./cmd/arrsd \
 && go build -buildvcs=false -modfile=tools/go.mod -ldflags "-s -w" -o /out/grpc-health-probe \
      github.com/grpc-ecosystem/grpc-health-probe \
 && mkdir -p /out/data

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/arrsd /out/grpc-health-probe /
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV ARRS_ENVIRONMENT=production \
    ARRS_DATA_DIR=/data \
    ARRS_GRPC_ADDR=:9090 \
    ARRS_HTTP_ADDR=:8080 \
    ARRS_METRICS_ADDR=:9464
EXPOSE 9090 8080 9464
ENTRYPOINT ["/arrsd"]
CMD ["serve"]
