// Package watchdog keeps the hardware watchdog (/dev/watchdog) fed while the
// firmware is healthy, and stops feeding it when it is not, so that the
// board resets itself.
//
// # The kernel's watchdog
//
// Opening /dev/watchdog arms the hardware timer (on a Raspberry Pi the
// SoC's, bcm2835_wdt, at most 15 s). Each keepalive (the WDIOC_KEEPALIVE
// ioctl, or any write) restarts it; if it runs out the board resets.
// Closing the device stops the timer only if the magic character 'V' was
// written just before (and the kernel was not built with nowayout):
// that is an orderly close. A process that dies leaves it armed, and the
// board resets.
//
// # Liveness checks
//
// A process that runs is not necessarily a process that works. Each part
// whose progress matters (a line's loop, the PCM clock) registers a Check
// with the longest time it may go without progress, and calls Beat as it
// makes progress. When any check goes longer than its limit the watchdog
// stops feeding the timer for good and logs which check stalled: the
// hardware resets the board within its timeout, and Close no longer
// disarms it.
package watchdog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultPath is the kernel's first watchdog device.
const DefaultPath = "/dev/watchdog"

// Sentinel errors.
var (
	// ErrNotPresent means there is no watchdog device; the firmware runs
	// without one.
	ErrNotPresent = errors.New("watchdog: no watchdog device")
	// ErrStalled is returned by Close when a check stalled: the watchdog
	// was left armed so that the board resets.
	ErrStalled = errors.New("watchdog: a liveness check stalled; leaving the watchdog armed")
)

// Config tunes a Watchdog.
type Config struct {
	// Path is the watchdog device; "" means DefaultPath.
	Path string
	// Interval is how often the timer is fed and the checks looked at;
	// 0 means a third of the hardware timeout, or 5 s when the device does
	// not tell its timeout.
	Interval time.Duration
	Logger   *slog.Logger
}

// Watchdog feeds one watchdog device. Its methods are safe for concurrent
// use.
type Watchdog struct {
	f        *os.File
	interval time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	checks  map[*Check]struct{}
	stalled atomic.Bool
	pets    atomic.Uint64

	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Check is one liveness check. Beat reports progress.
type Check struct {
	w     *Watchdog
	name  string
	limit time.Duration
	last  atomic.Int64 // unix nanoseconds of the last beat
}

// Open opens and arms the watchdog device and starts feeding it. It
// returns an error wrapping ErrNotPresent when the device does not exist.
// ctx bounds the feeding: when it is done the watchdog is closed in order
// (disarmed), as Close does.
func Open(ctx context.Context, c Config) (*Watchdog, error) {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	f, err := os.OpenFile(c.Path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrNotPresent, err)
	}
	if err != nil {
		return nil, fmt.Errorf("watchdog: %w", err)
	}
	w := &Watchdog{f: f, interval: c.Interval, log: c.Logger.With("watchdog", c.Path), checks: map[*Check]struct{}{}, done: make(chan struct{})}
	if w.interval <= 0 {
		w.interval = 5 * time.Second
		if t, err := timeout(f); err == nil && t > 0 {
			w.interval = t / 3
		}
	}
	if err := w.pet(); err != nil {
		f.Close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	w.cancel = cancel
	go w.run(runCtx)
	context.AfterFunc(runCtx, func() { w.Close() })
	w.log.Info("watchdog armed", "interval", w.interval)
	return w, nil
}

// Register adds a liveness check that stalls when Beat is not called for
// longer than limit. The check starts as if it had just beaten.
func (w *Watchdog) Register(name string, limit time.Duration) *Check {
	c := &Check{w: w, name: name, limit: limit}
	c.Beat()
	w.mu.Lock()
	w.checks[c] = struct{}{}
	w.mu.Unlock()
	return c
}

// Beat reports progress. It does not allocate, so it can be called from a
// media loop every frame.
func (c *Check) Beat() { c.last.Store(time.Now().UnixNano()) }

// Unregister removes the check, for a part that stops in an orderly way.
func (c *Check) Unregister() {
	c.w.mu.Lock()
	delete(c.w.checks, c)
	c.w.mu.Unlock()
}

// Stalled reports whether a check has stalled and feeding has stopped.
func (w *Watchdog) Stalled() bool { return w.stalled.Load() }

// Pets returns how many times the timer was fed.
func (w *Watchdog) Pets() uint64 { return w.pets.Load() }

// run feeds the timer every interval while every check is alive.
func (w *Watchdog) run(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if w.stalled.Load() {
			continue
		}
		if name, late := w.stall(time.Now()); name != "" {
			w.stalled.Store(true)
			w.log.Error("liveness check stalled; no longer feeding the watchdog, the board will reset", "check", name, "since", late)
			continue
		}
		if err := w.pet(); err != nil {
			w.log.Warn("feeding the watchdog", "err", err)
		}
	}
}

// stall returns the name of a stalled check and how long it has been
// silent, or "".
func (w *Watchdog) stall(now time.Time) (string, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c := range w.checks {
		if late := now.Sub(time.Unix(0, c.last.Load())); late > c.limit {
			return c.name, late
		}
	}
	return "", 0
}

// pet feeds the timer: WDIOC_KEEPALIVE, or a write where the device does
// not take ioctls.
func (w *Watchdog) pet() error {
	if err := keepalive(w.f); err != nil {
		if _, werr := w.f.Write([]byte{'.'}); werr != nil {
			return fmt.Errorf("watchdog: keepalive: %w; write: %w", err, werr)
		}
	}
	w.pets.Add(1)
	return nil
}

// Close stops feeding. When no check stalled it writes the magic 'V' so
// that the kernel disarms the timer, and closes the device; after a stall
// it closes without the 'V' and returns ErrStalled, and the board resets.
func (w *Watchdog) Close() error {
	w.closeOnce.Do(func() {
		w.cancel()
		<-w.done
		if w.stalled.Load() {
			w.closeErr = errors.Join(ErrStalled, w.f.Close())
			return
		}
		_, err := w.f.Write([]byte{'V'})
		if err != nil {
			err = fmt.Errorf("watchdog: magic close: %w", err)
		}
		w.closeErr = errors.Join(err, w.f.Close())
		w.log.Info("watchdog disarmed")
	})
	return w.closeErr
}
