package image

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestPlanAligns(t *testing.T) {
	l, err := Plan(0x1234abcd, 256*MiB, 700*MiB+1, 256*MiB)
	if err != nil {
		t.Fatal(err)
	}
	want := []Partition{
		{Type: TypeFAT32LBA, Start: 4 * MiB, Size: 256 * MiB},
		{Type: TypeLinux, Start: 260 * MiB, Size: 701 * MiB},
		{Type: TypeLinux, Start: 961 * MiB, Size: 256 * MiB},
	}
	if len(l.Parts) != len(want) {
		t.Fatalf("got %d partitions", len(l.Parts))
	}
	for i, p := range l.Parts {
		if p != want[i] {
			t.Errorf("partition %d: got %+v, want %+v", i+1, p, want[i])
		}
	}
	if l.Size() != 1217*MiB {
		t.Errorf("size %d MiB", l.Size()/MiB)
	}
}

func TestPlanRejects(t *testing.T) {
	for _, sizes := range [][]int64{{}, {1, 1, 1, 1, 1}, {MiB, 0}, {MiB, -1}, {MiB, 3 << 40}} {
		if _, err := Plan(1, sizes...); err == nil {
			t.Errorf("Plan(%v): no error", sizes)
		}
	}
}

// TestMBRBytes pins the bytes of one table, entry by entry: disk ID at
// 440, entries at 446 (status, CHS, type, CHS, LBA, count), 55 AA.
func TestMBRBytes(t *testing.T) {
	l := Layout{DiskID: 0x01020304, Parts: []Partition{
		{Type: TypeFAT32LBA, Bootable: true, Start: 4 * MiB, Size: 256 * MiB},
		{Type: TypeLinux, Start: 260 * MiB, Size: 8 << 30},
	}}
	b, err := l.MBR()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 512 || b[510] != 0x55 || b[511] != 0xaa {
		t.Fatalf("no 55 AA mark")
	}
	if !bytes.Equal(b[440:444], []byte{4, 3, 2, 1}) {
		t.Errorf("disk ID % x", b[440:444])
	}
	// LBA 8192 = C 0 H 130 S 3; last LBA 532479 = C 33 H 37 S 4 (255/63).
	want1 := []byte{0x80, 130, 3, 0, 0x0c, 37, 4, 33, 0x00, 0x20, 0, 0, 0x00, 0x00, 0x08, 0}
	if got := b[446:462]; !bytes.Equal(got, want1) {
		t.Errorf("entry 1: % x\nwant    % x", got, want1)
	}
	// Partition 2 starts at LBA 532480 = C 33 H 37 S 5 and ends past
	// cylinder 1023: CHS FE FF FF; 8 GiB is 0x01000000 sectors.
	want2 := []byte{0, 37, 5, 33, 0x83, 0xfe, 0xff, 0xff, 0x00, 0x20, 0x08, 0, 0x00, 0x00, 0x00, 1}
	if got := b[462:478]; !bytes.Equal(got, want2) {
		t.Errorf("entry 2: % x\nwant    % x", got, want2)
	}
	if !bytes.Equal(b[478:510], make([]byte, 32)) {
		t.Errorf("entries 3 and 4 not empty")
	}
}

func TestMBRRoundTrip(t *testing.T) {
	l, err := Plan(0xdeadbeef, 256*MiB, 900*MiB, 128*MiB)
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.MBR()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadMBR(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got.DiskID != l.DiskID || len(got.Parts) != 3 {
		t.Fatalf("got %+v", got)
	}
	for i := range l.Parts {
		if got.Parts[i] != l.Parts[i] {
			t.Errorf("partition %d: %+v, want %+v", i+1, got.Parts[i], l.Parts[i])
		}
	}
	if _, err := ReadMBR(bytes.NewReader(make([]byte, 512))); err != ErrNoMBR {
		t.Errorf("blank sector: %v", err)
	}
}

func TestMBROverlap(t *testing.T) {
	l := Layout{Parts: []Partition{{Type: 0x83, Start: MiB, Size: 2 * MiB}, {Type: 0x83, Start: 2 * MiB, Size: MiB}}}
	if _, err := l.MBR(); err == nil {
		t.Error("overlapping partitions accepted")
	}
}

// TestAssemble writes a small image and reads it back: each partition's
// bytes at its offset, zeros elsewhere, and, where sfdisk is installed,
// the table as util-linux reads it.
func TestAssemble(t *testing.T) {
	dir := t.TempDir()
	l, err := Plan(0x7469706e, 2*MiB, 3*MiB, MiB)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var contents [][]byte
	for i := range l.Parts {
		c := bytes.Repeat([]byte{byte(i + 1)}, int(l.Parts[i].Size)/2)
		c = append(c, make([]byte, 200<<10)...) // a run of zeros: skipped
		c = append(c, 9, 9, 9)
		name := filepath.Join(dir, "p"+string(rune('1'+i)))
		if err := os.WriteFile(name, c, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
		contents = append(contents, c)
	}
	img := filepath.Join(dir, "disk.img")
	if err := Assemble(img, l, names); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(raw)) != l.Size() {
		t.Fatalf("image is %d bytes, want %d", len(raw), l.Size())
	}
	for i, p := range l.Parts {
		got := raw[p.Start:p.End()]
		if !bytes.Equal(got[:len(contents[i])], contents[i]) || !bytes.Equal(got[len(contents[i]):], make([]byte, len(got)-len(contents[i]))) {
			t.Errorf("partition %d: content differs", i+1)
		}
	}
	if !bytes.Equal(raw[512:FirstOffset], make([]byte, FirstOffset-512)) {
		t.Error("bytes between the MBR and the first partition")
	}
	copyName := filepath.Join(dir, "copy.img")
	if err := CopyFile(copyName, img); err != nil {
		t.Fatal(err)
	}
	if c, _ := os.ReadFile(copyName); !bytes.Equal(c, raw) {
		t.Error("CopyFile: copy differs")
	}

	sfdisk, err := exec.LookPath("sfdisk")
	if err != nil {
		t.Log("no sfdisk: table not cross-checked")
		return
	}
	out, err := exec.Command(sfdisk, "--json", img).Output()
	if err != nil {
		t.Fatalf("sfdisk --json: %v", err)
	}
	var pt struct {
		PartitionTable struct {
			Label  string `json:"label"`
			ID     string `json:"id"`
			Sector int64  `json:"sectorsize"`
			Parts  []struct {
				Start int64  `json:"start"`
				Size  int64  `json:"size"`
				Type  string `json:"type"`
			} `json:"partitions"`
		} `json:"partitiontable"`
	}
	if err := json.Unmarshal(out, &pt); err != nil {
		t.Fatal(err)
	}
	if pt.PartitionTable.Label != "dos" || pt.PartitionTable.ID != "0x7469706e" || len(pt.PartitionTable.Parts) != 3 {
		t.Fatalf("sfdisk reads %s", out)
	}
	for i, p := range pt.PartitionTable.Parts {
		want := l.Parts[i]
		if p.Start*SectorSize != want.Start || p.Size*SectorSize != want.Size {
			t.Errorf("sfdisk: partition %d at %d+%d sectors", i+1, p.Start, p.Size)
		}
	}
	if pt.PartitionTable.Parts[0].Type != "c" || pt.PartitionTable.Parts[1].Type != "83" {
		t.Errorf("sfdisk: types %s", out)
	}
}

func TestAssembleTooBig(t *testing.T) {
	dir := t.TempDir()
	l, _ := Plan(1, MiB)
	p := filepath.Join(dir, "p")
	if err := os.WriteFile(p, make([]byte, MiB+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Assemble(filepath.Join(dir, "x.img"), l, []string{p}); err == nil {
		t.Error("a part larger than its partition was accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, "x.img")); err == nil {
		t.Error("image written anyway")
	}
}

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a/b"), 0o755)
	os.WriteFile(filepath.Join(dir, "a/f"), make([]byte, 5000), 0o644)
	os.WriteFile(filepath.Join(dir, "a/b/g"), nil, 0o644)
	os.Link(filepath.Join(dir, "a/f"), filepath.Join(dir, "a/h"))
	os.Symlink("f", filepath.Join(dir, "a/s"))
	u, err := Usage(dir)
	if err != nil {
		t.Fatal(err)
	}
	// 3 directories and one 2-block file (counted once); the empty file
	// and the short link live in their inodes.
	if u.Bytes != 5*4096 || u.Inodes != 6 {
		t.Errorf("got %+v", u)
	}
}
