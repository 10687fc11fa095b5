// Package syslog sends the gateway's log to a remote syslog server as
// RFC 5424 messages, over UDP (RFC 5426, one message per datagram) or TCP
// (RFC 6587 octet counting), facility local0, app name "tipring".
//
// Tee is the slog.Handler the gateway logs through: it passes every
// record to the handler it wraps (stderr, the log ring) and, when a Sender
// is set, formats it for syslog and queues it. Logging never waits for the
// network: the queue is bounded, and a record that finds it full is
// dropped and counted. The Sender can be replaced or removed at any time,
// which is how a changed [syslog] setting applies without a restart.
package syslog

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Defaults of Config.
const (
	DefaultQueue = 512
	// MaxMessage bounds one message: longer ones are cut (RFC 5426 §3.2
	// asks receivers for 2048 octets at least).
	MaxMessage     = 2048
	facilityLocal0 = 16
)

// Config sets up a Sender.
type Config struct {
	Server    string     // host:port
	Transport string     // "udp" (default) or "tcp"
	Level     slog.Level // records below it are not sent
	Hostname  string     // default os.Hostname()
	App       string     // default "tipring"
	Queue     int        // queued messages; default DefaultQueue
	// Dial connects; nil means net.Dialer with a 5 s timeout.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	Now  func() time.Time
}

// Sender formats records and sends them from a goroutine of its own.
type Sender struct {
	cfg     Config
	procid  string
	queue   chan []byte
	dropped atomic.Uint64
	sent    atomic.Uint64
	cancel  context.CancelFunc
	stop    chan struct{}
	done    chan struct{}

	mu      sync.Mutex
	lastErr error
}

// New starts a Sender; Close stops it.
func New(cfg Config) (*Sender, error) {
	if cfg.Transport == "" {
		cfg.Transport = "udp"
	}
	if cfg.Transport != "udp" && cfg.Transport != "tcp" {
		return nil, fmt.Errorf("syslog: transport %q is not udp or tcp", cfg.Transport)
	}
	if _, _, err := net.SplitHostPort(cfg.Server); err != nil {
		return nil, fmt.Errorf("syslog: server %q: %w", cfg.Server, err)
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	if cfg.App == "" {
		cfg.App = "tipring"
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.Dial == nil {
		d := &net.Dialer{Timeout: 5 * time.Second}
		cfg.Dial = d.DialContext
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sender{cfg: cfg, procid: strconv.Itoa(os.Getpid()), queue: make(chan []byte, cfg.Queue), cancel: cancel, stop: make(chan struct{}), done: make(chan struct{})}
	go s.run(ctx)
	return s, nil
}

// Close stops the sender after a short attempt to send what is queued.
func (s *Sender) Close() {
	close(s.stop)
	select {
	case <-s.done:
	case <-time.After(time.Second):
		s.cancel()
		<-s.done
	}
}

// Dropped is how many messages found the queue full.
func (s *Sender) Dropped() uint64 { return s.dropped.Load() }

// Sent is how many messages went out.
func (s *Sender) Sent() uint64 { return s.sent.Load() }

// Err is the last error sending, or nil.
func (s *Sender) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

func (s *Sender) setErr(err error) {
	s.mu.Lock()
	s.lastErr = err
	s.mu.Unlock()
}

// enqueue queues msg without waiting.
func (s *Sender) enqueue(msg []byte) {
	select {
	case s.queue <- msg:
	default:
		s.dropped.Add(1)
	}
}

func (s *Sender) run(ctx context.Context) {
	defer close(s.done)
	var conn net.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	backoff := 100 * time.Millisecond
	stopping := false
	for {
		var msg []byte
		if stopping {
			select {
			case msg = <-s.queue:
			default:
				return // all sent
			}
		} else {
			select {
			case msg = <-s.queue:
			case <-s.stop:
				stopping = true
				continue
			}
		}
		for {
			if conn == nil {
				c, err := s.cfg.Dial(ctx, s.cfg.Transport, s.cfg.Server)
				if err != nil {
					s.setErr(err)
					if s.cfg.Transport == "udp" || ctx.Err() != nil {
						s.dropped.Add(1)
						break
					}
					// TCP: wait and reconnect, dropping what arrives
					// meanwhile beyond the queue.
					select {
					case <-ctx.Done():
						s.dropped.Add(1)
						return
					case <-time.After(backoff):
					}
					backoff = min(backoff*2, 10*time.Second)
					continue
				}
				conn, backoff = c, 100*time.Millisecond
			}
			out := msg
			if s.cfg.Transport == "tcp" {
				out = append(strconv.AppendInt(nil, int64(len(msg)), 10), ' ')
				out = append(out, msg...)
			}
			conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := conn.Write(out); err != nil {
				s.setErr(err)
				conn.Close()
				conn = nil
				if s.cfg.Transport == "udp" {
					s.dropped.Add(1)
					break
				}
				continue // TCP: reconnect and send this message again
			}
			s.setErr(nil)
			s.sent.Add(1)
			break
		}
	}
}

// severity maps a slog level to a syslog severity (RFC 5424 §6.2.1).
func severity(l slog.Level) int {
	switch {
	case l >= slog.LevelError:
		return 3
	case l >= slog.LevelWarn:
		return 4
	case l >= slog.LevelInfo:
		return 6
	}
	return 7
}

// header is the RFC 5424 header field: a PRINTUSASCII name of at most n
// octets, or "-".
func header(v string, n int) string {
	var b strings.Builder
	for i := 0; i < len(v) && b.Len() < n; i++ {
		if c := v[i]; c > 32 && c < 127 {
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// Format returns the RFC 5424 message for a record at t: PRI, version 1,
// timestamp, hostname, app name, procid, msgid "-", no structured data,
// then the message and its attributes as key=value.
func (s *Sender) Format(t time.Time, level slog.Level, text string) []byte {
	b := make([]byte, 0, 128+len(text))
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(facilityLocal0*8+severity(level)), 10)
	b = append(b, ">1 "...)
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	b = append(b, ' ')
	b = append(b, header(s.cfg.Hostname, 255)...)
	b = append(b, ' ')
	b = append(b, header(s.cfg.App, 48)...)
	b = append(b, ' ')
	b = append(b, header(s.procid, 128)...)
	b = append(b, " - - "...)
	for _, r := range text {
		if r == '\n' || r == '\r' {
			r = ' '
		}
		b = utf8.AppendRune(b, r)
		if len(b) >= MaxMessage {
			break
		}
	}
	if len(b) > MaxMessage {
		b = b[:MaxMessage]
		for !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	return b
}

// Tee is a slog.Handler that passes records to next and, when a Sender
// is set with SetSender, to the remote syslog server.
type Tee struct {
	next   slog.Handler
	shared *teeShared
	attrs  string // preformatted " k=v" of WithAttrs, with group prefixes
	group  string // "g1.g2." prefix for later attribute keys
}

type teeShared struct {
	sender atomic.Pointer[sendLevel]
}

type sendLevel struct {
	s     *Sender
	level slog.Level
}

// NewTee wraps next.
func NewTee(next slog.Handler) *Tee {
	return &Tee{next: next, shared: &teeShared{}}
}

// SetSender makes the handler (and every handler derived from it with
// WithAttrs or WithGroup) send records at s's level and above to s; nil
// stops sending. It returns the sender it replaces, which the caller
// closes.
func (t *Tee) SetSender(s *Sender) *Sender {
	var next *sendLevel
	if s != nil {
		next = &sendLevel{s: s, level: s.cfg.Level}
	}
	old := t.shared.sender.Swap(next)
	if old == nil {
		return nil
	}
	return old.s
}

// Sender returns the sender in use, or nil.
func (t *Tee) Sender() *Sender {
	if sl := t.shared.sender.Load(); sl != nil {
		return sl.s
	}
	return nil
}

// Enabled implements slog.Handler.
func (t *Tee) Enabled(ctx context.Context, l slog.Level) bool {
	if t.next.Enabled(ctx, l) {
		return true
	}
	sl := t.shared.sender.Load()
	return sl != nil && l >= sl.level
}

// Handle implements slog.Handler.
func (t *Tee) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if t.next.Enabled(ctx, r.Level) {
		err = t.next.Handle(ctx, r)
	}
	sl := t.shared.sender.Load()
	if sl == nil || r.Level < sl.level {
		return err
	}
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(t.attrs)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&b, t.group, a)
		return true
	})
	at := r.Time
	if at.IsZero() {
		at = sl.s.cfg.Now()
	}
	sl.s.enqueue(sl.s.Format(at, r.Level, b.String()))
	return err
}

// WithAttrs implements slog.Handler.
func (t *Tee) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(t.attrs)
	for _, a := range as {
		appendAttr(&b, t.group, a)
	}
	return &Tee{next: t.next.WithAttrs(as), shared: t.shared, attrs: b.String(), group: t.group}
}

// WithGroup implements slog.Handler.
func (t *Tee) WithGroup(name string) slog.Handler {
	if name == "" {
		return t
	}
	return &Tee{next: t.next.WithGroup(name), shared: t.shared, attrs: t.attrs, group: t.group + name + "."}
}

// appendAttr writes " key=value", quoting values with spaces, quotes or
// equals signs, and flattening groups.
func appendAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			appendAttr(b, p, g)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(prefix)
	b.WriteString(a.Key)
	b.WriteByte('=')
	v := a.Value.String()
	if v == "" || strings.ContainsAny(v, " \t\"=\n\r") {
		v = strconv.Quote(v)
	}
	b.WriteString(v)
}
