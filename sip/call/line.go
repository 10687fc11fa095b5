package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/tipring/tipring/sip/sdp"
)

// incomingBuffer is how many incoming calls wait for the controller.
const incomingBuffer = 4

// Line is one account's calls: it places calls and receives those routed
// to its user. Make it with [Router.NewLine]; its methods are safe for
// concurrent use.
type Line struct {
	r        *Router
	cfg      Config
	log      *slog.Logger
	incoming chan *Call

	mu     sync.Mutex
	calls  map[*Call]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newLine(r *Router, cfg Config) *Line {
	return &Line{
		r:        r,
		cfg:      cfg,
		log:      cfg.Logger.With("line", cfg.User),
		incoming: make(chan *Call, incomingBuffer),
		calls:    make(map[*Call]struct{}),
	}
}

// User returns the line's user.
func (l *Line) User() string { return l.cfg.User }

// Incoming returns the channel incoming calls arrive on, in state
// StateOffered. The controller rings the phone (Ring), then answers or
// rejects the call; a call the caller cancels meanwhile ends with
// EndCancelled.
func (l *Line) Incoming() <-chan *Call { return l.incoming }

// Calls returns the line's calls that have not ended.
func (l *Line) Calls() []*Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*Call, 0, len(l.calls))
	for c := range l.calls {
		out = append(out, c)
	}
	return out
}

// Close hangs up every call within ctx and detaches the line from the
// router.
func (l *Line) Close(ctx context.Context) error {
	l.mu.Lock()
	l.closed = true
	calls := make([]*Call, 0, len(l.calls))
	for c := range l.calls {
		calls = append(calls, c)
	}
	l.mu.Unlock()
	l.r.detach(l)
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Go(func() {
			if err := c.Hangup(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	l.wg.Wait()
	return errors.Join(errs...)
}

func (l *Line) userAgent() string { return "Tipring" }

func (l *Line) addCall(c *Call) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.calls[c] = struct{}{}
	return true
}

func (l *Line) removeCall(c *Call) {
	l.mu.Lock()
	delete(l.calls, c)
	l.mu.Unlock()
}

// busy reports whether an incoming call must be refused: the line has a
// call (other than except) and no call waiting, or two calls already.
func (l *Line) busy(except *Call) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for c := range l.calls {
		if c != except {
			n++
		}
	}
	if l.cfg.CallWaiting {
		return n >= 2
	}
	return n >= 1
}

func (l *Line) newCall(dir Direction, callID, localTag string) *Call {
	c := &Call{
		line:     l,
		dir:      dir,
		callID:   callID,
		localTag: localTag,
		events:   make(chan Event, eventBuffer),
		done:     make(chan struct{}),
		final:    make(chan struct{}),
		early:    make(map[string]*dialog),
		acks:     make(map[string]*sip.Request),
		rseq:     make(map[string]uint32),
		auth:     &authState{},
	}
	c.log = l.log.With("call", callID, "dir", dir.String())
	return c
}

// targetURI turns what was dialed into a Request-URI: a sip:, sips: or
// tel: URI as is, "user@host" as a sip: URI, a bare number at the line's
// domain.
func (l *Line) targetURI(number string) (sip.Uri, error) {
	var u sip.Uri
	number = strings.TrimSpace(number)
	s := number
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "sip:"), strings.HasPrefix(lower, "sips:"):
	case strings.HasPrefix(lower, "tel:"):
		s = "sip:" + strings.TrimPrefix(s[4:], "+") + "@" + l.cfg.Domain + ";user=phone"
	case strings.Contains(s, "@"):
		s = "sip:" + s
	default:
		if s == "" || strings.ContainsAny(s, " \t\r\n<>\";:") {
			return u, fmt.Errorf("%w: cannot dial %q", ErrInvalidConfig, number)
		}
		s = "sip:" + s + "@" + l.cfg.Domain
	}
	if err := sip.ParseUri(s, &u); err != nil {
		return u, fmt.Errorf("%w: cannot dial %q: %w", ErrInvalidConfig, number, err)
	}
	return u, nil
}

// newMedia makes a call's media and its negotiator.
func (l *Line) newMedia(ctx context.Context) (Media, *sdp.Negotiator, error) {
	m, err := l.cfg.NewMedia(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("call: media: %w", err)
	}
	neg, err := sdp.NewNegotiator(l.cfg.SDP, m.LocalAddr(), nil)
	if err != nil {
		_ = m.Close()
		return nil, nil, fmt.Errorf("call: %w", err)
	}
	return m, neg, nil
}
