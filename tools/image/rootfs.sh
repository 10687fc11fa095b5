#!/bin/sh
# rootfs.sh DEB OUTDIR — the Tipring image's file systems, as directories.
#
# Builds a Debian bookworm arm64 system with mmdebstrap from Debian's own
# packages (maintainer scripts run under qemu-user through binfmt_misc),
# installs the tipring .deb DEB into it, and splits the tree into the three
# partitions' contents:
#
#   OUTDIR/boot   the FAT boot partition (/boot/firmware: Pi firmware,
#                 kernel, initrd, DTBs, config.txt, cmdline.txt, overlay)
#   OUTDIR/root   the read-only root file system
#   OUTDIR/data   the writable partition mounted on /data: etc/tipring,
#                 var/lib/tipring, var/lib/systemd/timesync
#
# tools/image/mkimage then turns them into a disk image. Needs root (the
# tree keeps owners and device nodes), mmdebstrap, qemu-user-static and
# binfmt-support; image.mk's image-deps installs them.
#
# Environment: IMAGE_MIRROR (default http://deb.debian.org/debian),
# IMAGE_SECURITY_MIRROR (default http://deb.debian.org/debian-security),
# SOURCE_DATE_EPOCH (file times and mmdebstrap's clamp).
set -eu

deb=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
mirror=${IMAGE_MIRROR:-http://deb.debian.org/debian}
security=${IMAGE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
comps="main non-free-firmware"

[ "$(id -u)" = 0 ] || { echo "rootfs.sh: must run as root (mmdebstrap keeps owners and device nodes)" >&2; exit 1; }
[ -f "$deb" ] || { echo "rootfs.sh: no package $deb (make deb-arm64)" >&2; exit 1; }
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")

rm -rf "$out"
mkdir -p "$out"
tree=$out/tree

# What the image runs: the kernel and the Pi's boot firmware from Debian,
# systemd with networkd (DHCP), resolved (DNS for the SIP registrar and the
# NTP pool), timesyncd (the Pi has no RTC), avahi (tipring.local), and
# adduser for tipring's postinst. No SSH server (README.md: how to add one).
pkgs="linux-image-arm64,raspi-firmware,initramfs-tools,zstd,systemd,systemd-sysv,udev,kmod,dbus,\
systemd-timesyncd,systemd-resolved,avahi-daemon,ca-certificates,iproute2,adduser,dosfstools,e2fsprogs"

# The initramfs is built once, at the end: during package installation
# update-initramfs is diverted to a no-op (the kernel's postinst and the
# initramfs-tools trigger would otherwise build it two or three times, each
# minutes under emulation).
mmdebstrap \
	--arch=arm64 --variant=minbase --components="$(echo $comps | tr ' ' ,)" \
	--include="$pkgs" \
	--aptopt='Acquire::Languages "none"' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-include=/usr/share/locale/locale.alias' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-include=/usr/share/doc/tipring/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--essential-hook='chroot "$1" dpkg-divert --quiet --local --rename --divert /usr/sbin/update-initramfs.real --add /usr/sbin/update-initramfs' \
	--essential-hook='printf "#!/bin/sh\necho update-initramfs: deferred by the image build\n" > "$1/usr/sbin/update-initramfs" && chmod 0755 "$1/usr/sbin/update-initramfs"' \
	--customize-hook="mkdir -p \"\$1/tmp/tipring-image\" && cp '$deb' \"\$1/tmp/tipring-image/\"" \
	--customize-hook="'$here/customize.sh' \"\$1\"" \
	bookworm "$tree" \
	"deb $mirror bookworm $comps" \
	"deb $mirror bookworm-updates $comps" \
	"deb $security bookworm-security $comps"

# mmdebstrap's cleanup ran after the hooks; settle what it touches.
rm -f "$tree/etc/resolv.conf"
ln -s ../run/systemd/resolve/stub-resolv.conf "$tree/etc/resolv.conf"
echo tipring > "$tree/etc/hostname"
: > "$tree/etc/machine-id"
# D-Bus reads the machine ID here too (systemd-tmpfiles would try to make
# the link at every boot, on the read-only root, and fail).
ln -sf /etc/machine-id "$tree/var/lib/dbus/machine-id"
rm -rf "$tree/tmp/tipring-image"

# Split: /boot/firmware's files go to the FAT partition, the writable
# directories to the data partition; the mount points stay in the root.
mkdir -p "$out/boot" "$out/data/etc" "$out/data/var/lib/systemd"
mv "$tree/boot/firmware/"* "$out/boot/"
mv "$tree/etc/tipring" "$out/data/etc/tipring"
mv "$tree/var/lib/tipring" "$out/data/var/lib/tipring"
mkdir -p "$tree/etc/tipring" "$tree/var/lib/tipring" "$tree/data"
mv "$tree/var/lib/systemd/timesync" "$out/data/var/lib/systemd/timesync"
mkdir -p "$tree/var/lib/systemd/timesync"
mv "$tree" "$out/root"
echo "rootfs.sh: $(du -sh "$out/root" | cut -f1) root, $(du -sh "$out/boot" | cut -f1) boot, $(du -sh "$out/data" | cut -f1) data in $out"
