# webtier: `make synth` writes the Terraform JSON, `make test` checks it. Both install what
# they need first: the npm-pinned Node.js 22 that jsii runs on, and the Go modules.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export JSII_RUNTIME_PACKAGE_CACHE ?= enabled
# jsii's bundled code calls util.isArray, which Node 22 reports as deprecated on every run.
export NODE_OPTIONS ?= --no-deprecation
# The offline provider mirror when this machine has one, the registry otherwise.
export TF_CLI_CONFIG_FILE := $(CURDIR)/terraform/$(if $(wildcard /opt/tf-plugins),mirror,registry).tfrc
CONFIG ?= webtier.example.json

TARGET ?= local

.PHONY: all setup trivy twin-deps synth verify plan deploy destroy test test-access cross soak bench bench-deploy bench-twin twin twin-down clean
all: deploy

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@node --version | grep -q '^v22\.' || { echo "node_modules/.bin/node is not Node 22"; exit 1; }
	touch $@

setup: node_modules/.installed twin-deps
	go mod download

# The twin needs nftables; its stand-ins OpenSSH's server and client (SSH through the
# bastions) and MariaDB (the database and its failover): Debian's nftables, openssh-server,
# openssh-client, mariadb-server. As root, install what is missing; otherwise the twin's
# commands say why they cannot run and its tests skip. No service is started: the twin runs
# its own sshd and MariaDB in its namespaces.
TWIN_PACKAGES := nftables openssh-server openssh-client mariadb-server
twin-deps:
	@{ command -v nft && test -x /usr/sbin/sshd && command -v ssh && test -x /usr/sbin/mariadbd; } >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $(TWIN_PACKAGES) for the twin"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    (apt-get install -y -qq $(TWIN_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $(TWIN_PACKAGES); }) >/dev/null; \
	  else echo "note: nftables or OpenSSH is missing and this is not root with apt-get: the twin cannot run here"; fi; }

bin/webtier: setup FORCE
	go build -o $@ .

synth: bin/webtier
	./bin/webtier synth --config $(CONFIG)

verify: bin/webtier
	./bin/webtier synth --config $(CONFIG)
	./bin/webtier verify --config $(CONFIG)

plan deploy destroy: bin/webtier
	./bin/webtier $@ --config $(CONFIG) --target $(TARGET)

# The IaC scanner of `make test`: trivy, built from its Go module at a pinned version into
# bin/tools (no download of a release binary; the Go proxy is the source). Its encoding/json/v2
# needs GOEXPERIMENT=jsonv2. It scans offline with the checks built into the binary.
TRIVY_VERSION := v0.74.0
TRIVY := $(CURDIR)/bin/tools/trivy-$(TRIVY_VERSION)
$(TRIVY):
	@mkdir -p bin/tools/build
	GOEXPERIMENT=jsonv2 GOBIN=$(CURDIR)/bin/tools/build go install github.com/aquasecurity/trivy/cmd/trivy@$(TRIVY_VERSION)
	mv bin/tools/build/trivy $@
trivy: $(TRIVY)

# The deploy cycle against moto takes minutes: hence the long timeout. TestIaCScan runs
# trivy on the example stack's plan.
test: setup cross trivy
	go vet ./...
	python3 -m unittest discover -s emulator
	WEBTIER_TRIVY=$(TRIVY) go test -timeout 45m ./...

# Everything but the twin runs on macOS and Windows: the command is built, and every package
# with its tests vetted, for both, so that a Linux-only call outside a _linux.go file fails
# here. Seconds with a warm build cache; the first run compiles the cdktf bindings for each.
cross:
	GOOS=darwin GOARCH=arm64 go build -o /dev/null .
	GOOS=windows GOARCH=amd64 go build -o /dev/null .
	GOOS=darwin GOARCH=arm64 go vet ./...
	GOOS=windows GOARCH=amd64 go vet ./...

# N deploy -> live verify -> plan again -> destroy -> leftovers cycles on one emulator;
# TF_DEBUG_LOG=FILE keeps terraform's and the provider's debug log (every request and retry);
# DRILLS=0 leaves out the drills (apply, live verify, plan again, destroy).
N ?= 8
DRILLS ?= 1
soak: setup
	go test -count=1 -timeout 0 -v -run '^TestSoak$$' . -soak $(N) $(if $(TF_DEBUG_LOG),-soak-tf-log $(abspath $(TF_DEBUG_LOG))) $(if $(filter 0,$(DRILLS)),-soak-drill=false)

# The deploy cycle of `access: ssm` on the emulator (Session Manager's endpoints, no bastion):
# about six minutes, outside make test's budget.
test-access: setup
	go test -count=1 -timeout 30m -v -run '^TestLocalDeployCycleSSM$$' . -access-cycle

bench: setup
	./bench/synth.sh
	go test ./verify -run '^$$' -bench . -benchtime 3x

bench-deploy: setup
	./bench/deploy.sh

bench-twin: setup
	./bench/twin.sh

# The synthesized stack as real packets: up, then every probe and the cross-check with
# verify. The twin stays up to explore (`./bin/webtier twin hosts`, `twin exec`) until
# `make twin-down`.
twin: bin/webtier
	./bin/webtier synth --config $(CONFIG)
	./bin/webtier twin up --config $(CONFIG)
	./bin/webtier twin test

twin-down: bin/webtier
	./bin/webtier twin down

clean:
	rm -rf cdktf.out bin node_modules

FORCE:
