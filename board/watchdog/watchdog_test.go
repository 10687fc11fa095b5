package watchdog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeDevice is a regular file standing in for /dev/watchdog: it takes no
// ioctls, so every keepalive is a write of '.', and the magic close a 'V'.
func fakeDevice(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "watchdog")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func content(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func waitPets(t *testing.T, w *Watchdog, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for w.Pets() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d pets", w.Pets())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNotPresent(t *testing.T) {
	_, err := Open(t.Context(), Config{Path: filepath.Join(t.TempDir(), "none")})
	if !errors.Is(err, ErrNotPresent) {
		t.Fatalf("Open of a missing device: %v, want ErrNotPresent", err)
	}
}

func TestPetsAndMagicClose(t *testing.T) {
	p := fakeDevice(t)
	w, err := Open(t.Context(), Config{Path: p, Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := w.Register("line 1", time.Second)
	for range 5 {
		c.Beat()
		time.Sleep(5 * time.Millisecond)
	}
	waitPets(t, w, 4)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := content(t, p)
	if !strings.HasSuffix(got, "V") || strings.Count(got, ".") < 4 || strings.Count(got, "V") != 1 {
		t.Errorf("device got %q, want keepalives then one magic V", got)
	}
}

func TestStalledCheckStopsPetting(t *testing.T) {
	p := fakeDevice(t)
	w, err := Open(t.Context(), Config{Path: p, Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w.Register("line 1", 20*time.Millisecond) // never beats again
	alive := w.Register("line 2", time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for !w.Stalled() {
		alive.Beat()
		if time.Now().After(deadline) {
			t.Fatal("the stalled check was not noticed")
		}
		time.Sleep(time.Millisecond)
	}
	pets := w.Pets()
	time.Sleep(30 * time.Millisecond)
	if w.Pets() != pets {
		t.Errorf("still feeding after a stall: %d → %d", pets, w.Pets())
	}
	if err := w.Close(); !errors.Is(err, ErrStalled) {
		t.Errorf("Close after a stall: %v, want ErrStalled", err)
	}
	if got := content(t, p); strings.Contains(got, "V") {
		t.Errorf("magic close written after a stall: %q; the board would not reset", got)
	}
}

func TestUnregisterAndContext(t *testing.T) {
	p := fakeDevice(t)
	ctx, cancel := context.WithCancel(t.Context())
	w, err := Open(ctx, Config{Path: p, Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := w.Register("stopped line", 10*time.Millisecond)
	c.Unregister()
	time.Sleep(30 * time.Millisecond)
	if w.Stalled() {
		t.Error("an unregistered check stalled the watchdog")
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.HasSuffix(content(t, p), "V") {
		if time.Now().After(deadline) {
			t.Fatal("the end of the context did not disarm the watchdog")
		}
		time.Sleep(time.Millisecond)
	}
}

func BenchmarkBeat(b *testing.B) {
	var c Check
	b.ReportAllocs()
	for b.Loop() {
		c.Beat()
	}
}
