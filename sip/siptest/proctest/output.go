package proctest

import (
	"bytes"
	"sync"
)

// Output collects what a peer process writes on stdout and stderr, which
// its two pipes copy from two goroutines, for the test to show when it
// fails. The zero value is ready to use.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
