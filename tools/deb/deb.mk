# Debian packages of Tipring: `make deb` writes
# build/deb/tipring_<version>_<arch>.deb for amd64, arm64, armhf and armel.
# Include it from the top-level Makefile (include tools/deb/deb.mk) or run it
# alone from the repository root: make -f tools/deb/deb.mk deb
#
# Reproducible: every binary is built with CGO_ENABLED=0 and -trimpath, every
# file in the package is dated SOURCE_DATE_EPOCH (the last commit's time),
# owned by root:root and sorted; two runs on the same commit with the same Go
# toolchain give the same bytes. tools/deb/README.md says more.
#
#   make deb                       all four architectures
#   make deb DEB_ARCHES=arm64      one
#   make deb-arm64                 the same
#   make deb VERSION=1.2.3         a version by hand instead of git describe
#   make deb-sign UPDATE_KEY=K.key signs every package in build/deb for
#                                  firmware updates through the web page
#                                  (FILE.deb.sig; tools/deb/README.md)

# Included before its own first target, this file must not become the
# including Makefile's default goal (restored at the end).
DEB_PREV_GOAL := $(.DEFAULT_GOAL)

GO                ?= go
VERSION           ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
DEB_ARCHES        ?= amd64 arm64 armhf armel
DEB_DIR           ?= build/deb
DEB_MAINTAINER    ?= Tipring maintainers <maintainers@tipring.invalid>
# Debian version used as is; empty: mapped from VERSION by mkdeb.
DEB_VERSION       ?=
DTC               ?= dtc
DEB_OVERLAY_SRC   := board/rpi/overlay/tipring-si3215-overlay.dts
DEB_OVERLAY       := $(DEB_DIR)/tipring-si3215.dtbo

# Go settings per Debian architecture. armhf is ARMv7; set DEB_GOARM_armhf=6
# for one armhf package that also runs on a Pi Zero/1 with Raspberry Pi OS
# (whose armhf is ARMv6).
DEB_GOARCH_amd64  := amd64
DEB_GOARCH_arm64  := arm64
DEB_GOARCH_armhf  := arm
DEB_GOARCH_armel  := arm
DEB_GOARM_armhf   ?= 7
DEB_GOARM_armel   ?= 6

DEB_ENV    = CGO_ENABLED=0 GOOS=linux GOFLAGS= GOAMD64=v1 GOARM64=v8.0 SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH)
DEB_GOENV  = $(DEB_ENV) GOARCH=$(DEB_GOARCH_$*) GOARM=$(DEB_GOARM_$*)
DEB_BUILD  = $(GO) build -trimpath -ldflags '-s -w -X main.version=$(VERSION)$(if $(UPDATE_PUBKEY), -X main.updateKey=$(UPDATE_PUBKEY))'

# The private key of firmware update signatures (from
# `go run ./tools/updatesign -genkey PREFIX`): PREFIX.key. UPDATE_PUBKEY,
# the content of PREFIX.pub, builds the key into the program as a key every
# gateway trusts (besides update.public_keys).
UPDATE_KEY        ?=
UPDATE_PUBKEY     ?=

.PHONY: deb deb-prep deb-sign $(addprefix deb-,$(DEB_ARCHES))

deb: $(addprefix deb-,$(DEB_ARCHES))
	@ls -l $(DEB_DIR)/*.deb

# mkdeb runs on the build machine; the overlay is compiled once for every
# ARM package, when dtc is there (Debian: device-tree-compiler).
deb-prep:
	@mkdir -p $(DEB_DIR)
	$(DEB_ENV) GOARCH= GOARM= $(GO) build -trimpath -o $(DEB_DIR)/mkdeb ./tools/deb/mkdeb
	@if command -v $(DTC) >/dev/null 2>&1; then \
		echo "$(DTC) -> $(DEB_OVERLAY)"; \
		$(DTC) -q -@ -I dts -O dtb -o $(DEB_OVERLAY) $(DEB_OVERLAY_SRC); \
	else \
		echo "deb: no $(DTC): the packages carry no overlay (apt-get install device-tree-compiler)"; \
		rm -f $(DEB_OVERLAY); \
	fi

# tipring must build; simphone and dsptool go in when they build.
$(addprefix deb-,$(DEB_ARCHES)): deb-%: deb-prep
	@rm -rf $(DEB_DIR)/$* $(DEB_DIR)/tipring_*_$*.deb && mkdir -p $(DEB_DIR)/$*
	$(DEB_GOENV) $(DEB_BUILD) -o $(DEB_DIR)/$*/tipring ./firmware
	@for t in simphone dsptool; do \
		$(DEB_GOENV) $(DEB_BUILD) -o $(DEB_DIR)/$*/$$t ./tools/$$t || echo "deb: $$t did not build; left out"; \
	done
	$(DEB_DIR)/mkdeb -arch $* -bin $(DEB_DIR)/$* -version '$(VERSION)' \
		$(if $(DEB_VERSION),-deb-version '$(DEB_VERSION)') \
		-maintainer '$(DEB_MAINTAINER)' -epoch $(SOURCE_DATE_EPOCH) \
		$$(test -f $(DEB_OVERLAY) && echo -dtbo $(DEB_OVERLAY)) -o $(DEB_DIR)

# Signs the packages already built (make deb deb-sign UPDATE_KEY=…).
deb-sign:
	@test -n "$(UPDATE_KEY)" || { echo "deb-sign: set UPDATE_KEY=PREFIX.key (go run ./tools/updatesign -genkey PREFIX makes one)"; exit 1; }
	@ls $(DEB_DIR)/*.deb >/dev/null 2>&1 || { echo "deb-sign: no package in $(DEB_DIR): make deb first"; exit 1; }
	GOOS= GOARCH= GOARM= $(GO) run ./tools/updatesign -key '$(UPDATE_KEY)' $(DEB_DIR)/*.deb

ifneq ($(words $(MAKEFILE_LIST)),1)
.DEFAULT_GOAL := $(DEB_PREV_GOAL)
endif
