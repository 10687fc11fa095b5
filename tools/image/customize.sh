#!/bin/sh
# customize.sh ROOT — mmdebstrap's customize hook for the Tipring image
# (rootfs.sh runs it): installs the tipring package, the image's own files
# (tools/image/files), the settings of the Debian packages, and builds the
# initramfs once. Runs on the build machine; commands inside ROOT go
# through chroot (and qemu-user).
set -eu

root=$1
here=$(cd "$(dirname "$0")" && pwd)
inroot() { chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }

# The gateway. Its postinst makes the tipring user, enables the unit and,
# outside a running systemd, does not start it.
deb=$(cd "$root/tmp/tipring-image" && ls tipring_*_arm64.deb)
inroot apt-get install -y --no-install-recommends "/tmp/tipring-image/$deb"

# The image's files: fstab, networkd, resolved, journald, the host name
# unit, the avahi service, the initramfs module policy.
umask 022
cp -R "$here/files/." "$root/"

# mDNS name tipring.local whatever the host name (tipring-XXXXXX); avahi
# renames it tipring-2.local by itself when two gateways share a network.
sed -i 's/^#\?host-name=.*/host-name=tipring/' "$root/etc/avahi/avahi-daemon.conf"
grep -q '^host-name=tipring$' "$root/etc/avahi/avahi-daemon.conf"

# raspi-firmware writes config.txt and cmdline.txt from these.
cat >> "$root/etc/default/raspi-firmware" <<'CONF'

# Tipring image: the root by label (the initramfs resolves it), the
# serial console on the GPIO header (ttyS1 on a Pi 3/4) and the screen.
ROOTPART="LABEL=tipring-root"
CONSOLES="tty0 ttyS1,115200"
CONF
if [ -e "$root/boot/firmware/overlays/tipring-si3215.dtbo" ]; then
	printf '# The Si3210/Si3215 SLICs (tipring package, docs/hardware.md).\ndtoverlay=tipring-si3215\n' > "$root/etc/default/raspi-firmware-custom"
else
	echo "customize.sh: warning: the tipring package has no overlay (build it with dtc installed); config.txt gets no dtoverlay" >&2
fi

# The modules the initramfs needs to find the root: SD card (Pi 3 sdhost,
# Pi 4 emmc2), USB mass storage, virtio (QEMU), ext4. Missing ones only warn.
cat >> "$root/etc/initramfs-tools/modules" <<'MODS'
# Tipring image (MODULES=list in conf.d/tipring-image)
mmc_block
sdhci_iproc
bcm2835
bcm2835_dma
clk_raspberrypi
reset_raspberrypi
pcie_brcmstb
xhci_pci
dwc2
usb_storage
uas
sd_mod
virtio_pci
virtio_mmio
virtio_blk
virtio_scsi
ext4
crc32c_generic
MODS

# timesyncd's state directory is bound from the data partition; it must
# exist there with timesyncd's owner.
mkdir -p "$root/var/lib/systemd/timesync"
inroot chown systemd-timesync:systemd-timesync /var/lib/systemd/timesync ||
	echo "customize.sh: no systemd-timesync user yet; systemd sets the owner at start" >&2

# systemd's own state directories: made at build time, since systemd would
# fail to create them on the read-only root (logind would not start).
mkdir -p "$root/var/lib/systemd/linger" "$root/var/lib/systemd/backlight" \
	"$root/var/lib/systemd/rfkill" "$root/var/lib/systemd/pstore"

inroot systemctl enable systemd-networkd.service systemd-resolved.service systemd-timesyncd.service \
	avahi-daemon.service tipring-hostname.service
inroot systemctl is-enabled tipring.service
# Every boot is a "first boot" to systemd (the machine ID is made afresh
# on a read-only root): never stop at the console asking for a locale.
inroot systemctl mask systemd-firstboot.service

# The initramfs, once (update-initramfs was diverted during installation);
# its post-update hook lets raspi-firmware fill /boot/firmware: kernel,
# initrd, DTBs, config.txt, cmdline.txt.
rm -f "$root/usr/sbin/update-initramfs"
inroot dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
for v in $(ls "$root/lib/modules"); do
	inroot update-initramfs -c -k "$v"
done
grep -q 'root=LABEL=tipring-root' "$root/boot/firmware/cmdline.txt"

# Nothing from the build machine; no package lists (apt-get update first).
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin
echo "customize.sh: config.txt:"; grep -v '^#' "$root/boot/firmware/config.txt" | grep . | sed 's/^/  /'
echo "customize.sh: cmdline.txt: $(cat "$root/boot/firmware/cmdline.txt")"
