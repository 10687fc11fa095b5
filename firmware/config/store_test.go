package config

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestStoreUpdate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.toml")
	c, err := Parse("good", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(path, c)
	if err := s.Update(func(c *Config) error { c.Lines[0].User = "3001"; return nil }); err != nil {
		t.Fatal(err)
	}
	got := s.Get()
	got.Lines[0].User = "mutated copy"
	if s.Get().Lines[0].User != "3001" {
		t.Fatal("Get returned shared state")
	}
	if onDisk, err := Load(path); err != nil || onDisk.Lines[0].User != "3001" {
		t.Fatalf("not saved: %v", err)
	}
	boom := errors.New("boom")
	if err := s.Update(func(c *Config) error { c.Lines[0].User = "x"; return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err := s.Update(func(c *Config) error { c.Board.Ports = 99; return nil }); err == nil {
		t.Fatal("invalid update accepted")
	}
	if s.Get().Lines[0].User != "3001" || s.Get().Board.Ports != 4 {
		t.Fatalf("failed updates changed the config: %+v", s.Get())
	}
}
