# Tipring — build, run and test. `make help` lists the targets.

GO        ?= go
PKG       := github.com/tipring/tipring
BIN       := bin
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
export CGO_ENABLED := 0

# Debian packages the tests use: qemu-user runs the arm/arm64 test binaries,
# espeak-ng makes the DTMF talk-off speech corpus, kamailio (with its TLS
# module) is the registrar the SIP tests register with, baresip and sip-tester
# (SIPp) are the far ends of the call tests, chromium runs the web page tests,
# device-tree-compiler checks the Raspberry Pi overlay.
TEST_DEBS := qemu-user espeak-ng kamailio kamailio-tls-modules baresip sip-tester chromium device-tree-compiler

.PHONY: help build cross run test test-native test-qemu deps lint bench fuzz clean

help:
	@echo "make run     the gateway on the simulated board, web page at http://127.0.0.1:8080"
	@echo "make test    every test, with -race, then the unit tests under qemu-user for arm and arm64"
	@echo "make build   bin/tipring, bin/simphone, bin/dsptool"
	@echo "make cross   linux/arm (GOARM=6), linux/arm64 and linux/amd64 binaries in bin/"
	@echo "make bench   benchmarks"
	@echo "make fuzz    each fuzz target for FUZZTIME (default 10s)"
	@echo "make deb     Debian packages for amd64, arm64, armhf and armel in build/deb/"
	@echo "make deb-sign UPDATE_KEY=K.key   signs them for firmware updates through the web page"
	@echo "make image   a flashable Raspberry Pi (arm64) SD-card image in build/image/ (root or sudo)"
	@echo "make image-test  boots that image under qemu-system-aarch64 and waits for the web page"

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./firmware/... ./tools/...
	@mv -f $(BIN)/firmware $(BIN)/tipring 2>/dev/null || true

cross:
	GOOS=linux GOARCH=arm GOARM=6 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/tipring-linux-armv6 ./firmware
	GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/tipring-linux-arm64 ./firmware
	GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/tipring-linux-amd64 ./firmware
	@ls -l $(BIN)/tipring-linux-*

run: build
	@mkdir -p $(BIN)/run
	@test -f $(BIN)/run/tipring.toml || cp firmware/testdata/sim.toml $(BIN)/run/tipring.toml
	$(BIN)/tipring -config $(BIN)/run/tipring.toml -state $(BIN)/run/state

# deps installs what the tests need on a fresh Debian 12 machine. It runs
# apt-get only when something is missing, as root or through sudo.
deps:
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	$(GO) mod download

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: deps lint test-native test-qemu

test-native:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 15m ./...

# The unit tests again on the boards' architectures, under qemu-user, with
# -short (the end-to-end tests stay on the native run).
test-qemu:
	GOARCH=arm GOARM=6 $(GO) test -short -count=1 -timeout 20m -exec qemu-arm ./...
	GOARCH=arm64 $(GO) test -short -count=1 -timeout 20m -exec qemu-aarch64 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

FUZZTIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "$$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf $(BIN)
include tools/deb/deb.mk
include tools/image/image.mk
