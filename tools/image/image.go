// Package image assembles Tipring's SD-card image: an MBR partition table
// and the partitions' file-system images, written at their offsets into
// one file, without loop devices or root.
//
// The file systems themselves are made from directories by mkfs.vfat +
// mcopy and mkfs.ext4 -d (cmd mkimage runs them); this package does the
// arithmetic and the bytes that are easy to get subtly wrong: alignment,
// the MBR's little-endian fields and CHS fill, and the copy that keeps
// the image sparse. The boot test (boot_test.go, build tag imagetest)
// reads the table back with the same code to find the partitions.
package image

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// SectorSize is the logical sector size the MBR counts in.
const SectorSize = 512

// MiB is the alignment of every partition: SD cards erase in blocks of
// 4 MiB or less, and the first partition starts at 4 MiB (as Raspberry Pi
// OS and Debian's raspi images do) so no partition straddles one.
const MiB = 1 << 20

// FirstOffset is where the first partition starts.
const FirstOffset = 4 * MiB

// MBR partition types.
const (
	TypeFAT32LBA = 0x0c // what the Pi's boot ROM and firmware look for
	TypeLinux    = 0x83
)

// Partition is one primary partition. Start and Size are in bytes and
// multiples of SectorSize.
type Partition struct {
	Type     byte
	Bootable bool
	Start    int64
	Size     int64
}

// End is the first byte after the partition.
func (p Partition) End() int64 { return p.Start + p.Size }

// Layout is a disk: its MBR signature (the "disk identifier" that Linux
// shows in PARTUUIDs as XXXXXXXX-0N) and up to four primary partitions.
type Layout struct {
	DiskID uint32
	Parts  []Partition
}

// Size is the disk's size: the end of its last partition.
func (l Layout) Size() int64 {
	var end int64
	for _, p := range l.Parts {
		end = max(end, p.End())
	}
	return end
}

// Plan lays out partitions of the given sizes (in bytes) one after the
// other from FirstOffset, each rounded up to whole MiB and starting on a
// MiB boundary. The first partition is FAT32 (the Pi boots from it), the
// others Linux.
func Plan(diskID uint32, sizes ...int64) (Layout, error) {
	if len(sizes) == 0 || len(sizes) > 4 {
		return Layout{}, fmt.Errorf("image: %d partitions; an MBR holds 1 to 4", len(sizes))
	}
	l := Layout{DiskID: diskID}
	off := int64(FirstOffset)
	for i, s := range sizes {
		if s <= 0 {
			return Layout{}, fmt.Errorf("image: partition %d: size %d", i+1, s)
		}
		s = roundUp(s, MiB)
		t := byte(TypeLinux)
		if i == 0 {
			t = TypeFAT32LBA
		}
		l.Parts = append(l.Parts, Partition{Type: t, Start: off, Size: s})
		off += s
	}
	return l, l.check()
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }

// maxLBA is the largest sector number an MBR entry can hold (2 TiB disks).
const maxLBA = 1<<32 - 1

func (l Layout) check() error {
	if len(l.Parts) > 4 {
		return fmt.Errorf("image: %d partitions; an MBR holds 4", len(l.Parts))
	}
	for i, p := range l.Parts {
		switch {
		case p.Start%SectorSize != 0 || p.Size%SectorSize != 0:
			return fmt.Errorf("image: partition %d: start %d or size %d not in whole sectors", i+1, p.Start, p.Size)
		case p.Start < SectorSize || p.Size <= 0:
			return fmt.Errorf("image: partition %d: start %d, size %d", i+1, p.Start, p.Size)
		case p.End()/SectorSize > maxLBA:
			return fmt.Errorf("image: partition %d ends beyond what an MBR addresses", i+1)
		}
		for j, q := range l.Parts[:i] {
			if p.Start < q.End() && q.Start < p.End() {
				return fmt.Errorf("image: partitions %d and %d overlap", j+1, i+1)
			}
		}
	}
	return nil
}

// chs is the cylinder/head/sector address of lba in the conventional
// 255-head, 63-sector geometry, or the "beyond CHS" marker FE FF FF past
// cylinder 1023, as fdisk writes it. Nothing on a Pi reads it; old PCs
// and some card readers' sanity checks do.
func chs(lba int64) [3]byte {
	const heads, sectors = 255, 63
	c := lba / (heads * sectors)
	if c > 1023 {
		return [3]byte{0xfe, 0xff, 0xff}
	}
	h := (lba / sectors) % heads
	s := lba%sectors + 1
	return [3]byte{byte(h), byte(s) | byte(c>>8)<<6, byte(c)}
}

// MBR is the disk's first sector: no boot code, the disk signature at 440,
// four 16-byte partition entries at 446, the 55 AA mark at 510.
func (l Layout) MBR() ([]byte, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	b := make([]byte, SectorSize)
	binary.LittleEndian.PutUint32(b[440:], l.DiskID)
	for i, p := range l.Parts {
		e := b[446+16*i : 446+16*(i+1)]
		if p.Bootable {
			e[0] = 0x80
		}
		first, last := p.Start/SectorSize, p.End()/SectorSize-1
		c := chs(first)
		copy(e[1:4], c[:])
		e[4] = p.Type
		c = chs(last)
		copy(e[5:8], c[:])
		binary.LittleEndian.PutUint32(e[8:], uint32(first))
		binary.LittleEndian.PutUint32(e[12:], uint32(last-first+1))
	}
	b[510], b[511] = 0x55, 0xaa
	return b, nil
}

// ErrNoMBR says the first sector carries no MBR mark.
var ErrNoMBR = errors.New("image: no MBR (no 55 AA at byte 510)")

// ReadMBR reads the partition table of a disk image. Empty entries are
// left out; the others keep their order.
func ReadMBR(r io.ReaderAt) (Layout, error) {
	b := make([]byte, SectorSize)
	if _, err := r.ReadAt(b, 0); err != nil {
		return Layout{}, fmt.Errorf("image: reading the MBR: %w", err)
	}
	if b[510] != 0x55 || b[511] != 0xaa {
		return Layout{}, ErrNoMBR
	}
	l := Layout{DiskID: binary.LittleEndian.Uint32(b[440:])}
	for i := range 4 {
		e := b[446+16*i : 446+16*(i+1)]
		if e[4] == 0 {
			continue
		}
		if e[4] == 0xee {
			return Layout{}, errors.New("image: protective MBR: the disk is GPT")
		}
		l.Parts = append(l.Parts, Partition{
			Type:     e[4],
			Bootable: e[0]&0x80 != 0,
			Start:    int64(binary.LittleEndian.Uint32(e[8:])) * SectorSize,
			Size:     int64(binary.LittleEndian.Uint32(e[12:])) * SectorSize,
		})
	}
	return l, l.check()
}

// Assemble writes the disk image out: the MBR, then each file of parts
// (a file-system image, parts[i] for l.Parts[i]) at its partition's
// offset. A part may be smaller than its partition (the rest reads as
// zeros) but not larger. Runs of zeros are not written, so the image is
// sparse where the file system is empty, and writing it is quick.
func Assemble(out string, l Layout, parts []string) (err error) {
	if len(parts) != len(l.Parts) {
		return fmt.Errorf("image: %d partitions, %d images", len(l.Parts), len(parts))
	}
	mbr, err := l.MBR()
	if err != nil {
		return err
	}
	for i, name := range parts {
		st, err := os.Stat(name)
		if err != nil {
			return err
		}
		if st.Size() > l.Parts[i].Size {
			return fmt.Errorf("image: %s is %d bytes, partition %d only %d", name, st.Size(), i+1, l.Parts[i].Size)
		}
	}
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Truncate(l.Size()); err != nil {
		return err
	}
	if _, err := f.WriteAt(mbr, 0); err != nil {
		return err
	}
	for i, name := range parts {
		src, err := os.Open(name)
		if err != nil {
			return err
		}
		_, err = copySparse(f, l.Parts[i].Start, src)
		src.Close()
		if err != nil {
			return fmt.Errorf("image: writing %s: %w", name, err)
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// copySparse copies r into w from offset off, skipping (not writing)
// blocks that are all zeros. w must read as zeros there already (a fresh
// truncated file does).
func copySparse(w io.WriterAt, off int64, r io.Reader) (int64, error) {
	const block = 64 << 10
	buf := make([]byte, block)
	zero := make([]byte, block)
	var n int64
	for {
		m, err := io.ReadFull(r, buf)
		if m > 0 && !bytes.Equal(buf[:m], zero[:m]) {
			if _, werr := w.WriteAt(buf[:m], off+n); werr != nil {
				return n, werr
			}
		}
		n += int64(m)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// CopyFile copies src to dst (created or truncated) keeping it sparse, as
// the boot test does before it changes anything in an image.
func CopyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if err := out.Truncate(st.Size()); err != nil {
		out.Close()
		return err
	}
	if _, err := copySparse(out, 0, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TreeUsage is what a directory tree needs on an ext4 file system with
// 4 KiB blocks: its files' data rounded up to whole blocks plus a block for
// each directory, and how many inodes.
type TreeUsage struct {
	Bytes  int64
	Inodes int64
}

// Usage walks dir (without following symbolic links) and sums what it
// needs; hard links count once.
func Usage(dir string) (TreeUsage, error) {
	const block = 4096
	var u TreeUsage
	seen := map[[2]uint64]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if id, links, ok := inodeOf(info); ok && links > 1 {
			if seen[id] {
				return nil
			}
			seen[id] = true
		}
		u.Inodes++
		switch {
		case d.IsDir():
			u.Bytes += block
		case info.Mode().IsRegular():
			u.Bytes += roundUp(info.Size(), block)
		case info.Mode()&fs.ModeSymlink != 0 && info.Size() > 59:
			u.Bytes += block // longer targets than fit in the inode
		}
		return nil
	})
	return u, err
}
