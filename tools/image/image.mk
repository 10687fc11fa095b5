# Tipring's SD-card image for the Raspberry Pi (arm64), from Debian's own
# packages: `make image` writes build/image/tipring-arm64.img and .img.xz;
# `make image-test` boots it under QEMU and checks the web page.
# Include it from the top-level Makefile (include tools/image/image.mk, after
# tools/deb/deb.mk) or run it alone: make -f tools/image/image.mk image
# tools/image/README.md says what is in the image and how to write it.
#
# Needs root (mmdebstrap keeps owners and device nodes in the tree), binfmt_misc
# (the arm64 maintainer scripts run under qemu-user) and Debian's mirror.

IMAGE_PREV_GOAL := $(.DEFAULT_GOAL)

GO                ?= go
IMAGE_DIR         ?= build/image
IMAGE             := $(IMAGE_DIR)/tipring-arm64.img
IMAGE_DEB_DIR     ?= build/deb
# Debian's mirror (the build machine's apt does not need to list it).
IMAGE_MIRROR      ?= http://deb.debian.org/debian
IMAGE_SECURITY_MIRROR ?= http://deb.debian.org/debian-security
IMAGE_XZ_THREADS  ?= 2
# Longest wait for one boot in image-test.
IMAGE_TEST_TIMEOUT ?= 8m

# Debian packages the build and the boot test use: mmdebstrap and qemu-user
# (binfmt) for the arm64 tree, dosfstools + mtools for the FAT partition,
# e2fsprogs for ext4, fdisk (sfdisk cross-checks the table in the unit
# tests), device-tree-compiler (the overlay in the .deb, and checking it),
# xz-utils, qemu-system-arm for the boot test.
IMAGE_DEBS := mmdebstrap qemu-user-static binfmt-support arch-test dosfstools mtools e2fsprogs fdisk \
	device-tree-compiler xz-utils qemu-system-arm ipxe-qemu

.PHONY: image image-deps image-rootfs image-assemble image-test

image-deps:
	@missing=""; for p in $(IMAGE_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# arm64 programs run through binfmt_misc and qemu-user.
	@SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	[ -e /proc/sys/fs/binfmt_misc/status ] || $$SUDO mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; \
	[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || $$SUDO update-binfmts --enable qemu-aarch64; \
	arch-test arm64 >/dev/null || { echo "image: arm64 programs do not run here (binfmt_misc, qemu-user-static)"; exit 1; }

# The tree (mmdebstrap, several minutes: the arm64 maintainer scripts and
# the initramfs run under emulation), then the partitions and the image.
image: image-deps
	$(MAKE) -f tools/deb/deb.mk deb-arm64 DEB_DIR=$(IMAGE_DEB_DIR)
	$(MAKE) -f tools/image/image.mk image-rootfs image-assemble

image-rootfs:
	@set -e; deb=$$(ls -t $(IMAGE_DEB_DIR)/tipring_*_arm64.deb | head -1); \
	echo "image: $$deb"; \
	SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	$$SUDO env IMAGE_MIRROR=$(IMAGE_MIRROR) IMAGE_SECURITY_MIRROR=$(IMAGE_SECURITY_MIRROR) \
		tools/image/rootfs.sh "$$deb" $(IMAGE_DIR)/_fs

image-assemble:
	$(GO) build -trimpath -o $(IMAGE_DIR)/mkimage ./tools/image/mkimage
	@SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	$$SUDO env SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 0) \
		$(IMAGE_DIR)/mkimage -fs $(IMAGE_DIR)/_fs -o $(IMAGE)
	xz -T$(IMAGE_XZ_THREADS) -6 -k -f $(IMAGE)
	@ls -l $(IMAGE) $(IMAGE).xz; du -h --apparent-size $(IMAGE); du -h $(IMAGE)

# Boots copies of the image under qemu-system-aarch64: with the simulated
# board (the setup page over HTTPS), with the shipped configuration (the
# status page says the board failed), and once to run hal/alsa's test
# against the guest kernel's snd-aloop. Build tag imagetest: `make test`
# never runs it.
image-test: image-deps
	@test -f $(IMAGE) || { echo "image-test: no $(IMAGE); make image first"; exit 1; }
	TIPRING_IMAGE=$(abspath $(IMAGE)) TIPRING_IMAGE_TIMEOUT=$(IMAGE_TEST_TIMEOUT) TIPRING_IMAGE_LOGDIR=$(abspath $(IMAGE_DIR)) \
		$(GO) test -tags imagetest -count=1 -timeout 30m -v -run 'TestBoot|TestALSALoopbackInGuest' ./tools/image/

ifneq ($(words $(MAKEFILE_LIST)),1)
.DEFAULT_GOAL := $(IMAGE_PREV_GOAL)
endif
