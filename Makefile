# The commands a developer and CI need. Go tools are pinned in tools/go.mod
# and run with `go tool`, so nothing needs installing beyond Go and the
# PostgreSQL server binaries.
TOOL := go tool -modfile=tools/go.mod
BUF := $(TOOL) buf

# A release's version and commit, stamped into the binary (arrsd version,
# arrs_build_info); see internal/buildinfo.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BUILDINFO := arrs.nhs.uk/arrs/internal/buildinfo
LDFLAGS := -X $(BUILDINFO).version=$(VERSION) -X $(BUILDINFO).commit=$(COMMIT)
CONTAINER ?= docker
NPM := npm --prefix web

.PHONY: run test web web-test generate lint bench bench-national build image grpcurl health fuzz faults

## run: serve gRPC (:9090), REST (:8080) and metrics (:9464) with demo data;
## without DATABASE_URL, on a private PostgreSQL cluster under .data/.
## ARRSD=path/to/arrsd runs a binary already built instead of go run.
ARRSD ?= go run ./cmd/arrsd
run:
	$(ARRSD) serve --demo

## test: vet, lint the protos and run every test against real PostgreSQL.
test: lint
	go test -race -count=1 ./...

## fuzz: run every fuzz test (func FuzzXxx in FUZZ_PACKAGES) for FUZZTIME
## each, one after another: go test -fuzz takes one target per run. Seeds
## are committed under each package's testdata/fuzz; an input that fails is
## written there too, to be committed with its fix. CI runs it briefly
## (seconds per target); run it longer before a release. The server's fuzz tests
## start a PostgreSQL cluster per worker (FUZZPARALLEL). A run that ends
## with only "context deadline exceeded" and writes no failing input is
## Go's own race at the fuzztime deadline (go.dev/issue/75804), not a
## failure.
FUZZTIME ?= 2m
FUZZPARALLEL ?= 2
FUZZ_PACKAGES ?= ./claims/parsefuzz ./server
fuzz:
	@set -e; for pkg in $(FUZZ_PACKAGES); do \
	  for target in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$pkg/*_test.go | sed 's/^func //'); do \
	    echo "fuzz: $$pkg $$target for $(FUZZTIME)"; \
	    out=$$(mktemp); rc=0; seeds=$$(ls $$pkg/testdata/fuzz/$$target 2>/dev/null | wc -l); \
	    go test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) -parallel $(FUZZPARALLEL) $$pkg >$$out 2>&1 || rc=$$?; \
	    if [ $$rc -ne 0 ] && [ $$(ls $$pkg/testdata/fuzz/$$target 2>/dev/null | wc -l) -eq $$seeds ] && \
	       grep -qx '    context deadline exceeded' $$out; then \
	      echo "fuzz: $$target stopped with Go's fuzztime race (go.dev/issue/75804, fixed in Go 1.27), no failing input: not a failure"; rc=0; \
	    fi; \
	    if [ $$rc -eq 0 ]; then grep -E '^fuzz: elapsed: ' $$out | tail -n 1; else grep -v '^ *{' $$out | tail -n 60; fi; \
	    rm -f $$out; [ $$rc -eq 0 ] || exit $$rc; \
	  done; \
	done

## faults: the fault suite, bounded (under ten minutes): arrsd killed with
## SIGKILL mid-write, PostgreSQL stopped and restarted under load, the
## audit trail's tampering cases, and every fuzz test: the parsers for
## FAULTS_FUZZTIME, the server's for FAULTS_SERVER_FUZZTIME (each of their
## workers first starts PostgreSQL and loads the demo, a few seconds of
## the time). See docs/operating.md, "Faults".
FAULTS_FUZZTIME ?= 10s
FAULTS_SERVER_FUZZTIME ?= 30s
faults:
	go test -race -count=1 -run 'TestKillingArrsd' ./cmd/arrsd
	go test -race -count=1 -run 'TestADatabaseOutage' ./server
	go test -race -count=1 -run 'Tamper' ./claims
	$(MAKE) fuzz FUZZ_PACKAGES=./claims/parsefuzz FUZZTIME=$(FAULTS_FUZZTIME)
	$(MAKE) fuzz FUZZ_PACKAGES=./server FUZZTIME=$(FAULTS_SERVER_FUZZTIME)

## generate: regenerate gen/ from proto/ (CI fails if this leaves a diff):
## the Go code, and the OpenAPI 3 document arrsd serves (tools/openapi3
## converts protoc-gen-openapiv2's Swagger 2.0 output).
## The typed TypeScript client (web/api/schema.d.ts) is generated from that
## document too, with the npm tools pinned in web/package-lock.json.
generate: web/node_modules/.package-lock.json
	rm -rf gen
	$(BUF) generate
	cd tools && go run ./openapi3 ../gen/openapi
	$(NPM) run --silent generate
	$(MAKE) web

## web: build the web console (web/console) into web/dist, which arrsd
## embeds and serves at /; the result is committed, like gen/, so Go builds
## need no npm.
web: web/node_modules/.package-lock.json
	$(NPM) run --silent build

## web-test: lint the OpenAPI document (redocly), type-check the client and
## run its test against a real arrsd with the demo data.
web-test: web/node_modules/.package-lock.json
	$(NPM) run --silent lint:openapi
	$(NPM) run --silent typecheck
	rm -rf web/test/screenshots  # this run's pages only
	$(NPM) test

web/node_modules/.package-lock.json: web/package-lock.json
	$(NPM) ci --no-audit --no-fund

## lint: gofmt, go vet, golangci-lint (package boundaries, errors, imports;
## see .golangci.yml) and buf lint (STANDARD).
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	$(TOOL) golangci-lint run ./...
	cd tools && go vet ./openapi3
	$(BUF) lint

## build: a static bin/arrsd, stamped with VERSION and COMMIT.
build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o bin/arrsd ./cmd/arrsd

## image: the container image arrs:VERSION (CONTAINER=podman to use podman).
image:
	$(CONTAINER) build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t arrs:$(VERSION) .

## bench: run the benchmarks.
bench:
	go test -run '^$$' -bench . -benchmem ./...

## bench-national: generate a national year through the API and print what it
## measured as ratios (bench/README.md); not part of test. Flags in
## BENCH_FLAGS, e.g. BENCH_FLAGS='--pcns 20 --clients 4'. The full default
## (1,250 PCNs) takes a long time.
BENCH_FLAGS ?=
bench-national:
	go run ./bench/national $(BENCH_FLAGS)
