package config

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestMigrationsCoverEveryVersion checks that the table has one step for
// each version before this one, so no file is left half migrated.
func TestMigrationsCoverEveryVersion(t *testing.T) {
	for v := 1; v < Version; v++ {
		if migrations[v] == nil {
			t.Errorf("no migration from version %d", v)
		}
	}
	for v := range migrations {
		if v < 1 || v >= Version {
			t.Errorf("migration from version %d, which is not below %d", v, Version)
		}
	}
}

// TestV1GoldenMigrates loads a version-1 file: it is migrated in memory
// (every value kept, the duplicate codec dropped), saving writes version 2,
// and the saved file reloads equal.
func TestV1GoldenMigrates(t *testing.T) {
	data, err := os.ReadFile("testdata/v1.toml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load("testdata/v1.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 2 {
		t.Fatalf("version %d after loading a v1 file, want 2", c.Version)
	}
	if !slices.Equal(c.SIP.Codecs, []string{"pcma", "pcmu"}) {
		t.Errorf("codecs %q, want the duplicate dropped", c.SIP.Codecs)
	}
	l3 := c.Lines[1]
	if c.Board.Ports != 3 || c.SIP.SRTP != "required" || c.SIP.MWI || c.Region.CallerIDAlert != "rpas" || !c.Region.CallerIDPolarity ||
		c.Lines[0].Password != "line-one-secret" || !c.Lines[0].CallerID || !c.Lines[0].CallWaiting ||
		l3.CallerID || l3.CallWaiting || !l3.DND || l3.WarmlineS != 5 || l3.DigitMap != "(x.T|*xx)" || l3.ForwardNoAnswerS != 25 {
		t.Fatalf("values lost in migration: %+v", c)
	}
	path := filepath.Join(t.TempDir(), "tipring.toml")
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	saved, _ := os.ReadFile(path)
	if !bytes.HasPrefix(saved, []byte("version = 2\n")) {
		t.Fatalf("saved file does not start with version = 2:\n%s", saved)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("reloaded\n%+v\nwant\n%+v", back, c)
	}
	// The file on disk was not touched by loading it.
	if again, _ := os.ReadFile("testdata/v1.toml"); !bytes.Equal(again, data) {
		t.Fatal("Load rewrote the v1 file")
	}
	// A v2 file with a duplicate codec is refused: only old files are forgiven.
	v2 := strings.Replace(string(data), "version = 1", "version = 2", 1)
	if _, err := Parse("v2.toml", []byte(v2)); err == nil || !strings.Contains(err.Error(), "v2.toml:20: sip.codecs: codec 3, \"pcma\", is already in the list") {
		t.Fatalf("duplicate codec in a v2 file: %v", err)
	}
	if _, err := Parse("v0.toml", []byte("version = -1\n")); err == nil || !strings.Contains(err.Error(), "v0.toml:1: version") {
		t.Fatalf("negative version: %v", err)
	}
}

func TestRedactAndKeepSecrets(t *testing.T) {
	c, err := Load("testdata/v1.toml")
	if err != nil {
		t.Fatal(err)
	}
	r := Redact(c)
	data, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"line-one-secret", "line-three-secret", c.Web.AdminPasswordHash, "argon2"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("redacted file holds %q", secret)
		}
	}
	if c.Lines[0].Password != "line-one-secret" {
		t.Fatal("Redact changed its argument")
	}
	back, err := Parse("redacted.toml", data)
	if err != nil {
		t.Fatalf("a redacted download does not load: %v", err)
	}
	// Upload it again: the secrets come back from the configuration in force.
	back.Lines[1].Password = "new-three"
	back.Lines = append(back.Lines, Line{Port: 2, User: "1002", ForwardNoAnswerS: 20})
	k := KeepSecrets(back, c)
	if k.Web.AdminPasswordHash != c.Web.AdminPasswordHash || k.Lines[0].Password != "line-one-secret" ||
		k.Lines[1].Password != "new-three" || k.Lines[2].Password != "" {
		t.Fatalf("KeepSecrets: %+v", k)
	}
	if back.Lines[0].Password != "" {
		t.Fatal("KeepSecrets changed its argument")
	}
}
