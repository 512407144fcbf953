# Box of Pain in Go. `make demo` and `make test` are the two set-up commands:
# each installs what it needs first.

GO      ?= go
# staticcheck, pinned; go run fetches it through the module proxy on a
# fresh machine and keeps the binary in the build cache after that.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
BIN     := $(CURDIR)/bin
OUT     ?= out
RUNS    ?= 20
PLANS   ?= 20
FIXED   ?=
ENGINE  ?= parallel
JOBS    ?= 2
SYSTEM  ?= scripts/batch/kvstore.args

.PHONY: all build test deps demo bench redis redis-aof etcd round clean vet platforms fuzz

all: build

# deps installs the Debian packages the tests and the demo use, when missing.
deps:
	@scripts/deps.sh

build:
	$(GO) build -o $(BIN)/ ./cmd/... ./examples/...

vet:
	$(GO) vet ./...
	$(STATICCHECK) ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The tracer and what runs it (ptrace, tracer, launch, inject, ebpfrec and
# the commands pain-trace and pain-inject) are Linux/amd64 only and carry
# build constraints; everything still builds elsewhere, and those two
# commands say "Linux on amd64 only" there. The example systems are Linux
# programs (accept4, SOCK_CLOEXEC, fdatasync); a file per platform lets
# them build on darwin too, so the whole tree builds there.
platforms:
	GOARCH=arm64 $(GO) build ./...
	GOOS=darwin $(GO) build ./...

test: deps build vet platforms
	$(GO) test -count=1 -timeout 20m ./...

# fuzz gives every fuzz target FUZZTIME of its own (scripts/fuzz.sh).
FUZZTIME ?= 30s
fuzz:
	@FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

demo: deps build
	@RUNS=$(RUNS) PLANS=$(PLANS) FIXED=$(FIXED) OUT=$(OUT)/demo BIN=$(BIN) scripts/demo.sh

bench: deps build
	@BIN=$(BIN) scripts/bench/trace-overhead

# Redis 7 replication with Sentinel from Debian's packages (scripts/redis).
redis: deps build
	@RUNS=$(RUNS) PLANS=$(PLANS) OUT=$(OUT)/redis BIN=$(BIN) scripts/redis/run.sh

# Redis 7 with its append-only file, everysec and always, under power loss
# (scripts/redis/aof.sh): RUNS=3 PLANS=6 unless given.
redis-aof: deps build
	@RUNS=$(or $(AOF_RUNS),3) PLANS=$(or $(AOF_PLANS),6) OUT=$(OUT)/redis-aof BIN=$(BIN) scripts/redis/aof.sh

# Debian's etcd, three members (scripts/etcd): installs etcd-server and
# etcd-client when missing, then RUNS traced runs (10) and PLANS plans (12).
etcd: deps build
	@command -v etcd >/dev/null && command -v etcdctl >/dev/null || \
		{ s=; [ "$$(id -u)" = 0 ] || s=sudo; $$s apt-get install -y -qq --no-install-recommends etcd-server etcd-client >&2; }
	@RUNS=$(or $(ETCD_RUNS),10) PLANS=$(or $(ETCD_PLANS),12) OUT=$(OUT)/etcd BIN=$(BIN) sh scripts/etcd/run.sh

# A whole round (trace, track, plan, inject) through a batch engine:
# ENGINE=parallel (GNU parallel, JOBS at once), slurm (job arrays on the
# cluster SLURM_CONF names) or serial; see scripts/batch/README.md.
round: deps build
	@ENGINE=$(ENGINE) JOBS=$(JOBS) RUNS=$(RUNS) PLANS=$(PLANS) OUT=$(OUT)/round BIN=$(BIN) SYSTEM=$(SYSTEM) scripts/batch/round.sh

# The README's SQL queries, run with DuckDB's Go library (cgo, a large
# download: a module of its own, not part of make test).
analysis:
	cd scripts/analysis && $(GO) test -count=1 ./...

clean:
	rm -rf $(BIN) $(OUT)
