# The commands a developer and CI need. Go tools are pinned in tools/go.mod
# and run with `go tool`, so nothing needs installing beyond Go and the
# PostgreSQL server binaries.
TOOL := go tool -modfile=tools/go.mod
BUF := $(TOOL) buf

.PHONY: run test generate lint bench grpcurl health

## run: serve gRPC (:9090), REST (:8080) and metrics (:9464) with demo data;
## without DATABASE_URL, on a private PostgreSQL cluster under .data/.
run:
	go run ./cmd/arrsd serve --demo

## test: vet, lint the protos and run every test against real PostgreSQL.
test: lint
	go test -race -count=1 ./...

## generate: regenerate gen/ from proto/ (CI fails if this leaves a diff):
## the Go code, and the OpenAPI 3 document arrsd serves (tools/openapi3
## converts protoc-gen-openapiv2's Swagger 2.0 output).
generate:
	rm -rf gen
	$(BUF) generate
	cd tools && go run ./openapi3 ../gen/openapi

## lint: gofmt, go vet and buf lint (STANDARD).
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	$(BUF) lint

## bench: run the benchmarks.
bench:
	go test -run '^$$' -bench . -benchmem ./...
