package line

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Record is one call in the call log.
type Record struct {
	Start     time.Time `json:"start"`
	Port      int       `json:"port"`
	Direction string    `json:"direction"` // "in" or "out"
	Number    string    `json:"number"`
	Name      string    `json:"name,omitempty"`
	Local     bool      `json:"local,omitempty"` // between ports of the gateway
	// Duration is how long the call was connected, in seconds.
	Duration float64 `json:"durationS"`
	// Result is how the call went: answered, missed, busy, rejected,
	// forwarded, cancelled, no-answer, failed, or the status code and
	// reason of a failed outgoing call ("404 Not Found").
	Result string `json:"result"`
}

// History is the call log of all lines: the newest Cap records in memory,
// appended to a file (one JSON object per line) when it has one, so that
// the log survives a restart. It is safe for concurrent use.
type History struct {
	mu   sync.Mutex
	cap  int
	recs []Record // oldest first
	path string
	n    int // lines in the file
}

// DefaultHistory is how many records a History keeps.
const DefaultHistory = 500

// NewHistory returns a log keeping the newest capacity records (0 means
// DefaultHistory), backed by the file at path when path is not empty. A
// missing file is an empty log; unreadable lines of a damaged file are
// skipped.
func NewHistory(path string, capacity int) (*History, error) {
	if capacity <= 0 {
		capacity = DefaultHistory
	}
	h := &History{cap: capacity, path: path}
	if path == "" {
		return h, nil
	}
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("call history: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		h.n++
		var r Record
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			h.push(r)
		}
	}
	return h, nil
}

func (h *History) push(r Record) {
	h.recs = append(h.recs, r)
	if len(h.recs) > h.cap {
		h.recs = append(h.recs[:0], h.recs[len(h.recs)-h.cap:]...)
	}
}

// Add logs r.
func (h *History) Add(r Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.push(r)
	if h.path == "" {
		return nil
	}
	if h.n >= 2*h.cap {
		return h.rewrite()
	}
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("call history: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("call history: %w", err)
	}
	h.n++
	return nil
}

// rewrite replaces the file with the records in memory, atomically.
func (h *History) rewrite() error {
	var buf bytes.Buffer
	for _, r := range h.recs {
		line, _ := json.Marshal(r)
		buf.Write(line)
		buf.WriteByte('\n')
	}
	tmp, err := os.CreateTemp(filepath.Dir(h.path), ".calls.*")
	if err != nil {
		return fmt.Errorf("call history: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("call history: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("call history: %w", err)
	}
	tmp.Close()
	if err := os.Rename(tmp.Name(), h.path); err != nil {
		return fmt.Errorf("call history: %w", err)
	}
	h.n = len(h.recs)
	return nil
}

// List returns the log, newest first.
func (h *History) List() []Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Record, len(h.recs))
	for i, r := range h.recs {
		out[len(out)-1-i] = r
	}
	return out
}
