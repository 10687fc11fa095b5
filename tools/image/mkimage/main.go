// Command mkimage writes Tipring's SD-card image from the three
// directories tools/image/rootfs.sh leaves (boot, root, data):
//
//	mkimage -fs build/image/fs -o build/image/tipring-arm64.img
//
// Partition 1, FAT32 "RASPIFIRM": the Pi's firmware, kernel, initrd, DTBs,
// config.txt and cmdline.txt (mounted read-only on /boot/firmware).
// Partition 2, ext4 "tipring-root": the system, mounted read-only.
// Partition 3, ext4 "tipring-data": /etc/tipring, /var/lib/tipring and
// timesyncd's clock, mounted read-write on /data.
//
// The file systems are made from the directories with mkfs.vfat + mcopy
// and mkfs.ext4 -d, and written into the image at their offsets: no loop
// device, no mount. Needs dosfstools, mtools and e2fsprogs.
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tipring/tipring/tools/image"
)

func main() {
	fsDir := flag.String("fs", "build/image/fs", "directory with boot/, root/ and data/ (from rootfs.sh)")
	out := flag.String("o", "build/image/tipring-arm64.img", "the image to write")
	bootMiB := flag.Int64("boot-mib", 256, "size of the FAT boot partition, MiB")
	dataMiB := flag.Int64("data-mib", 256, "size of the data partition, MiB")
	rootFree := flag.Int64("root-free-mib", 128, "free space left on the root file system, MiB")
	epoch := flag.Int64("epoch", envInt("SOURCE_DATE_EPOCH", 0), "time stamp for the file systems (SOURCE_DATE_EPOCH)")
	flag.Parse()
	if err := run(*fsDir, *out, *bootMiB, *dataMiB, *rootFree, *epoch); err != nil {
		fmt.Fprintf(os.Stderr, "mkimage: %v\n", err)
		os.Exit(1)
	}
}

func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

func run(fsDir, out string, bootMiB, dataMiB, rootFreeMiB, epoch int64) error {
	start := time.Now()
	boot, root, data := filepath.Join(fsDir, "boot"), filepath.Join(fsDir, "root"), filepath.Join(fsDir, "data")
	for _, d := range []string{boot, root, data} {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return fmt.Errorf("%s: not a directory (run tools/image/rootfs.sh first)", d)
		}
	}
	checkOverlay(boot)

	work := out + ".parts"
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(work)

	// Root: what the tree needs, 10 % for ext4's own metadata, the journal,
	// and some room for a package or two added later.
	u, err := image.Usage(root)
	if err != nil {
		return err
	}
	rootSize := u.Bytes + u.Bytes/10 + 64*image.MiB + rootFreeMiB*image.MiB
	inodes := u.Inodes + u.Inodes/5 + 4096

	layout, err := image.Plan(diskID(epoch), bootMiB*image.MiB, rootSize, dataMiB*image.MiB)
	if err != nil {
		return err
	}
	parts := []string{filepath.Join(work, "boot.vfat"), filepath.Join(work, "root.ext4"), filepath.Join(work, "data.ext4")}
	if err := mkfat(parts[0], boot, layout.Parts[0].Size, layout.DiskID); err != nil {
		return err
	}
	if err := mkext4(parts[1], root, "tipring-root", layout.Parts[1].Size, inodes, epoch, "-m", "0"); err != nil {
		return err
	}
	if err := mkext4(parts[2], data, "tipring-data", layout.Parts[2].Size, 0, epoch, "-m", "1"); err != nil {
		return err
	}
	if err := image.Assemble(out, layout, parts); err != nil {
		return err
	}
	for i, p := range layout.Parts {
		fmt.Printf("mkimage: partition %d: type %#02x at %d MiB, %d MiB\n", i+1, p.Type, p.Start/image.MiB, p.Size/image.MiB)
	}
	fmt.Printf("mkimage: %s: %d MiB (root tree %d MiB, %d inodes) in %s\n", out, layout.Size()/image.MiB,
		u.Bytes/image.MiB, u.Inodes, time.Since(start).Round(time.Second))
	return nil
}

// diskID is the MBR signature: fixed per build time stamp, so two builds
// of the same tree agree.
func diskID(epoch int64) uint32 {
	return crc32.ChecksumIEEE([]byte("tipring " + strconv.FormatInt(epoch, 10)))
}

// uuidFor is a fixed file-system UUID per label and time stamp.
func uuidFor(label string, epoch int64) string {
	h := sha256.Sum256([]byte(label + " " + strconv.FormatInt(epoch, 10)))
	h[6] = h[6]&0x0f | 0x50 // version 5 style (name-based)
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func command(env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

// mkfat makes a FAT32 file system of size bytes in file and copies dir's
// contents into it with mcopy.
func mkfat(file, dir string, size int64, id uint32) error {
	if err := command(nil, "mkfs.vfat", "-C", "-F", "32", "-n", "RASPIFIRM", "-i", fmt.Sprintf("%08x", id),
		file, strconv.FormatInt(size/1024, 10)); err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(ents) == 0 {
		return fmt.Errorf("%s is empty: no firmware, kernel or config.txt", dir)
	}
	args := []string{"-i", file, "-s", "-p", "-m", "-Q"}
	for _, e := range ents {
		args = append(args, filepath.Join(dir, e.Name()))
	}
	args = append(args, "::/")
	return command([]string{"MTOOLS_SKIP_CHECK=1"}, "mcopy", args...)
}

// mkext4 makes an ext4 file system of size bytes in file from dir
// (mkfs.ext4 -d: owners, modes, links and device nodes as in the tree).
func mkext4(file, dir, label string, size, inodes, epoch int64, extra ...string) error {
	uuid := uuidFor(label, epoch)
	args := []string{"-q", "-F", "-t", "ext4", "-L", label, "-U", uuid, "-E", "hash_seed=" + uuid, "-d", dir}
	if inodes > 0 {
		args = append(args, "-N", strconv.FormatInt(inodes, 10))
	}
	args = append(args, extra...)
	args = append(args, file, strconv.FormatInt(size/1024, 10)+"k")
	var env []string
	if epoch > 0 {
		env = append(env, "E2FSPROGS_FAKE_TIME="+strconv.FormatInt(epoch, 10))
	}
	return command(env, "mkfs.ext4", args...)
}

// checkOverlay applies tipring's device-tree overlay to the Pi 3 and Pi 4
// device trees on the boot partition with fdtoverlay (when installed) and
// says whether the firmware will be able to: an overlay whose labels the
// base tree lacks is skipped at boot, and the SLICs stay invisible.
func checkOverlay(boot string) {
	dtbo := filepath.Join(boot, "overlays", "tipring-si3215.dtbo")
	if _, err := os.Stat(dtbo); err != nil {
		fmt.Println("mkimage: overlay: none on the boot partition")
		return
	}
	if _, err := exec.LookPath("fdtoverlay"); err != nil {
		fmt.Println("mkimage: overlay: not checked (no fdtoverlay: apt-get install device-tree-compiler)")
		return
	}
	for _, base := range []string{"bcm2837-rpi-3-b.dtb", "bcm2711-rpi-4-b.dtb"} {
		in := filepath.Join(boot, base)
		if _, err := os.Stat(in); err != nil {
			continue
		}
		tmp, err := os.CreateTemp("", "overlay-*.dtb")
		if err != nil {
			return
		}
		tmp.Close()
		cmd := exec.Command("fdtoverlay", "-i", in, "-o", tmp.Name(), dtbo)
		msg, err := cmd.CombinedOutput()
		os.Remove(tmp.Name())
		if err != nil {
			fmt.Printf("mkimage: overlay: WARNING: tipring-si3215.dtbo does not apply to %s (Debian's mainline device tree): %s\n",
				base, strings.Join(strings.Fields(string(msg)), " "))
		} else {
			fmt.Printf("mkimage: overlay: tipring-si3215.dtbo applies to %s\n", base)
		}
	}
}
