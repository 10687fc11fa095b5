package config

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
)

func TestStoreOnChange(t *testing.T) {
	c, err := Parse("good", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(filepath.Join(t.TempDir(), "t.toml"), c)
	type change struct{ old, new string }
	var got []change
	s.OnChange(func(old, new Config) {
		// The lock is released: reading the store from a callback works.
		if cur := s.Get(); cur.Lines[0].User != new.Lines[0].User {
			t.Errorf("Get in a callback: %q, want %q", cur.Lines[0].User, new.Lines[0].User)
		}
		got = append(got, change{old.Lines[0].User, new.Lines[0].User})
		new.Lines[0].User = "callback's own copy"
	})
	calls2 := 0
	s.OnChange(func(old, new Config) { calls2++ })
	if err := s.Update(func(c *Config) error { c.Lines[0].User = "2001"; return nil }); err != nil {
		t.Fatal(err)
	}
	// Failed updates call nobody.
	s.Update(func(c *Config) error { c.Lines[0].User = "x"; return errors.New("no") })
	s.Update(func(c *Config) error { c.Board.Ports = 0; return nil })
	if err := s.Update(func(c *Config) error { c.Lines[0].User = "2002"; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (change{"1001", "2001"}) || got[1] != (change{"2001", "2002"}) || calls2 != 2 {
		t.Fatalf("changes seen %v, second listener %d", got, calls2)
	}
	if s.Get().Lines[0].User != "2002" {
		t.Fatal("a callback changed the store's configuration")
	}
}

// TestStoreOnChangeOrder runs updates from many goroutines: every callback
// sees the previous callback's new configuration as its old one.
func TestStoreOnChangeOrder(t *testing.T) {
	c, err := Parse("good", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(filepath.Join(t.TempDir(), "t.toml"), c)
	var mu sync.Mutex
	last, broken, n := 0, 0, 0
	s.OnChange(func(old, new Config) {
		mu.Lock()
		defer mu.Unlock()
		if old.Region.HowlerAfterS != last {
			broken++
		}
		last = new.Region.HowlerAfterS
		n++
	})
	last = s.Get().Region.HowlerAfterS
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 10 {
				s.Update(func(c *Config) error { c.Region.HowlerAfterS = 100 + g*10 + i; return nil })
			}
		})
	}
	wg.Wait()
	if n != 40 || broken != 0 {
		t.Fatalf("%d callbacks, %d out of order", n, broken)
	}
}
