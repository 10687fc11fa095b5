package main

import "sync"

// logRing keeps the newest bytes of the log, whole lines only, for the
// diagnostic download of the maintenance page. Nothing secret is ever
// logged, so nothing secret is in it.
type logRing struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func newLogRing(max int) *logRing { return &logRing{max: max} }

// Write keeps p, dropping the oldest whole lines beyond max bytes.
func (r *logRing) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	if over := len(r.buf) - r.max; over > 0 {
		cut := over
		for cut < len(r.buf) && r.buf[cut-1] != '\n' {
			cut++
		}
		r.buf = append(r.buf[:0], r.buf[cut:]...)
	}
	return len(p), nil
}

// Bytes returns a copy of what the ring holds.
func (r *logRing) Bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.buf...)
}
