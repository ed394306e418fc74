# tinto — make targets. `make demo` and `make test` are all a fresh machine needs.
GO        ?= go
PKGS      ?= ./...
FUZZTIME  ?= 5s
BENCHTIME ?= 1x
BENCH     ?= .

.PHONY: all build test test-short race demo bench fuzz lint vet fmt tinto clean

all: build

build:
	$(GO) build ./...

tinto:
	$(GO) build -o bin/tinto ./cmd/tinto

# The whole test suite: unit, table, example, differential (python in-toto when installed),
# testscript CLI tests, and the race detector; then a short run of every fuzz target.
test: vet
	$(GO) test -race -count=1 -timeout 15m $(PKGS)
	$(MAKE) --no-print-directory fuzz FUZZTIME=2s

test-short:
	$(GO) test -short -count=1 $(PKGS)

# Runs the main job on the embedded default: builds a local TUF + in-toto repository,
# serves it on 127.0.0.1 and verifies against it.
demo:
	$(GO) run ./cmd/tinto demo

# Benchmarks, benchstat-friendly: make bench BENCH=Rules BENCHTIME=5x
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) -count 1 -timeout 60m $(PKGS)

# Runs every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do \
	    echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg >/dev/null || { $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; exit 1; }; \
	  done; \
	done

vet:
	$(GO) vet $(PKGS)

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@if $(GO) list -deps ./pkg/policy | grep -q open-policy-agent; then echo "pkg/policy must not link OPA"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
