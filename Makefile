# The commands a developer and CI need. Go tools are pinned in tools/go.mod
# and run with `go tool`, so nothing needs installing beyond Go and the
# PostgreSQL server binaries.
TOOL := go tool -modfile=tools/go.mod
BUF := $(TOOL) buf

.PHONY: run test generate lint bench grpcurl health

## run: serve gRPC (:9090), REST (:8080) and metrics (:9464) with demo data;
## without DATABASE_URL, on a private PostgreSQL cluster under .data/.
## ARRSD=path/to/arrsd runs a binary already built instead of go run.
ARRSD ?= go run ./cmd/arrsd
run:
	$(ARRSD) serve --demo

## test: vet, lint the protos and run every test against real PostgreSQL.
test: lint
	go test -race -count=1 ./...

## generate: regenerate gen/ from proto/ (CI fails if this leaves a diff).
generate:
	rm -rf gen
	$(BUF) generate

## lint: gofmt, go vet, golangci-lint (package boundaries, errors, imports;
## see .golangci.yml) and buf lint (STANDARD).
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	$(TOOL) golangci-lint run ./...
	$(BUF) lint

## bench: run the benchmarks.
bench:
	go test -run '^$$' -bench . -benchmem ./...
