# Build, run and test the licensing service. 'make help' lists the targets.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 10s

.PHONY: help build run test fuzz lint drill regions loadtest bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## Build bin/licensing
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/licensing ./cmd/licensing

run: build ## Prepare a local database, issue a demo license and serve on :3000
	scripts/run-dev.sh

test: ## Vet, run every test against local PostgreSQL and Redis, then fuzz briefly
	go vet ./...
	go test -race -count=1 ./...
	$(MAKE) fuzz

fuzz: ## Fuzz the verify-license request decoder for FUZZTIME
	go test -run '^$$' -fuzz '^FuzzDecodeVerifyRequest$$' -fuzztime $(FUZZTIME) ./internal/httpapi

lint: ## Check formatting and vet
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo 'run gofmt -w on the files above'; exit 1; }
	go vet ./...

drill: ## Deploy green and roll back to blue behind nginx under load; fail on any non-2xx
	scripts/drill.sh

regions: build ## Run a us-east-1 and a eu-west-1 instance on a primary and a replica, and verify through both
	scripts/regions-demo.sh

loadtest: build ## Load a running server (TARGET, default http://127.0.0.1:3000) with verify requests; LOADTEST_ARGS="--rate 500"
	scripts/loadtest.sh $(LOADTEST_ARGS)

bench: build ## Benchmark verify-license on a fresh database and write docs/benchmarks.md
	scripts/bench.sh
