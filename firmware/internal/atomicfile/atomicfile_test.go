package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// Write replaces the content and mode of a file, leaves no temporary file
// behind, and on failure (a directory that is not there) leaves nothing.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.toml")
	for _, tc := range []struct {
		data string
		mode os.FileMode
	}{{"one", 0o600}, {"two, longer", 0o644}} {
		if err := Write(p, []byte(tc.data), tc.mode); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != tc.data {
			t.Fatalf("read %q, %v; want %q", got, err, tc.data)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != tc.mode {
			t.Errorf("mode %v, want %v", fi.Mode().Perm(), tc.mode)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files in the directory, want 1", len(ents))
	}
	if err := Write(filepath.Join(dir, "no", "f"), []byte("x"), 0o600); err == nil {
		t.Error("no error writing into a missing directory")
	}
}
