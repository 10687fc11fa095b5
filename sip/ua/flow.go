package ua

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Flows (RFC 5626 §3.3): the agent dials its TCP and TLS connections to
// registrars itself and hands them to sipgo's transport layer through a
// [flowListener], as if they had been accepted. sipgo then keys each one by
// its remote address and reuses it for every request to that address, while
// the agent sees every byte read from it and every close. That lets it
//
//   - send RFC 5626 §4.4.1 keep-alives (a double CRLF "ping") and treat the
//     flow as failed when nothing (the single CRLF "pong", or any message)
//     comes back within the pong timeout;
//   - tell each registration using the flow the moment it dies, so that the
//     line registers again at once instead of at its next refresh;
//   - verify a TLS server against the name RFC 5922 asks for (the SIP
//     domain when the address came from SRV), not the IP address dialed.
//
// Two lines registering with one registrar share one flow.

// Keep-alive defaults. RFC 5626 §4.4.1 asks for a ping at a random time
// between 80 % and 100 % of the interval and declares the flow failed when
// no pong arrives within 10 s.
const (
	defaultKeepalive   = 30 * time.Second
	defaultPongTimeout = 10 * time.Second
)

// Ping and pong of RFC 5626 §3.5.1.
var crlfPing = []byte("\r\n\r\n")

// flowKey names a flow by transport ("tcp" or "tls") and remote address.
type flowKey struct {
	transport string
	addr      netip.AddrPort
}

// flow is one connection to a registrar, owned by the agent and read by
// sipgo.
type flow struct {
	key   flowKey
	conn  net.Conn // *net.TCPConn or *tls.Conn
	local netip.AddrPort

	dead  chan struct{} // closed when the flow has failed or was closed
	once  sync.Once
	why   error         // why the flow ended; set before dead is closed
	alive chan struct{} // signalled by each successful read

	refs int // guarded by flowTable.mu
}

// fail ends the flow with err: the connection is closed (sipgo's reader
// then drops it from its pool and fails the transactions on it) and every
// watcher learns of it through dead.
func (f *flow) fail(err error) {
	f.once.Do(func() {
		f.why = err
		close(f.dead)
		_ = f.conn.Close()
	})
}

// err returns why the flow ended, or nil while it lives.
func (f *flow) err() error {
	select {
	case <-f.dead:
		return f.why
	default:
		return nil
	}
}

// flowConn is the connection sipgo reads and writes: every read shows the
// flow alive, and a read error or close ends it.
type flowConn struct {
	net.Conn
	f *flow
}

func (c *flowConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		select {
		case c.f.alive <- struct{}{}:
		default:
		}
	}
	if err != nil {
		c.f.fail(fmt.Errorf("%w: %w", ErrFlowFailed, err))
	}
	return n, err
}

func (c *flowConn) Close() error {
	c.f.fail(fmt.Errorf("%w: closed", ErrFlowFailed))
	return nil
}

// keepalive pings the flow until it ends (RFC 5626 §4.4.1).
func (f *flow) keepalive(interval, timeout time.Duration, rnd func() float64) {
	for {
		wait := interval*8/10 + time.Duration(rnd()*float64(interval*2/10))
		t := time.NewTimer(wait)
		select {
		case <-f.dead:
			t.Stop()
			return
		case <-t.C:
		}
		select {
		case <-f.alive: // data before the ping says nothing about the pong
		default:
		}
		if _, err := f.conn.Write(crlfPing); err != nil {
			f.fail(fmt.Errorf("%w: keep-alive ping: %w", ErrFlowFailed, err))
			return
		}
		t = time.NewTimer(timeout)
		select {
		case <-f.dead:
			t.Stop()
			return
		case <-f.alive:
			t.Stop()
		case <-t.C:
			f.fail(fmt.Errorf("%w: no keep-alive pong within %v", ErrFlowFailed, timeout))
			return
		}
	}
}

// handoff passes one dialed connection to sipgo's accept loop; registered
// is closed once sipgo has put it in its pool.
type handoff struct {
	conn       net.Conn
	registered chan struct{}
}

// flowListener is the net.Listener sipgo "accepts" the agent's own flows
// from. sipgo's serve loop registers an accepted connection before it
// calls Accept again, which is when the previous handoff is confirmed.
type flowListener struct {
	addr  net.Addr
	conns chan *handoff
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	prev  *handoff
}

func newFlowListener(addr net.Addr) *flowListener {
	return &flowListener{addr: addr, conns: make(chan *handoff), done: make(chan struct{})}
}

func (l *flowListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if l.prev != nil {
		close(l.prev.registered)
		l.prev = nil
	}
	l.mu.Unlock()
	select {
	case h := <-l.conns:
		l.mu.Lock()
		l.prev = h
		l.mu.Unlock()
		return h.conn, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *flowListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *flowListener) Addr() net.Addr { return l.addr }

// give hands c to sipgo and waits until it is in sipgo's pool.
func (l *flowListener) give(ctx context.Context, c net.Conn) error {
	h := &handoff{conn: c, registered: make(chan struct{})}
	select {
	case l.conns <- h:
	case <-l.done:
		return ErrAgentClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-h.registered:
		return nil
	case <-l.done:
		return ErrAgentClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flowTable holds the agent's live flows.
type flowTable struct {
	mu      sync.Mutex
	flows   map[flowKey]*flow
	dialing map[flowKey]*dialCall
	closed  bool
}

// dialCall is one dial in progress, shared by concurrent acquirers.
type dialCall struct {
	done chan struct{}
	f    *flow
	err  error
}

// acquireFlow returns a live flow to t, dialing one if needed, with one
// more reference; release it when done. fresh tells that it was dialed
// for this call.
func (a *Agent) acquireFlow(ctx context.Context, t target) (f *flow, fresh bool, err error) {
	key := flowKey{transport: t.transport, addr: t.addr}
	ft := &a.flows
	for {
		ft.mu.Lock()
		if ft.closed {
			ft.mu.Unlock()
			return nil, false, ErrAgentClosed
		}
		if f := ft.flows[key]; f != nil && f.err() == nil {
			f.refs++
			ft.mu.Unlock()
			return f, false, nil
		}
		if d := ft.dialing[key]; d != nil {
			ft.mu.Unlock()
			select {
			case <-d.done:
			case <-ctx.Done():
				return nil, false, fmt.Errorf("%w: %s %s: %w", ErrNoResponse, t.transport, t.addr, ctx.Err())
			}
			if d.err != nil {
				return nil, false, d.err
			}
			continue
		}
		d := &dialCall{done: make(chan struct{})}
		ft.dialing[key] = d
		ft.mu.Unlock()

		f, err = a.dialFlow(ctx, t)
		ft.mu.Lock()
		delete(ft.dialing, key)
		if err == nil {
			if ft.closed {
				f.fail(ErrAgentClosed)
				err = ErrAgentClosed
			} else {
				ft.flows[key] = f
			}
		}
		d.f, d.err = f, err
		close(d.done)
		ft.mu.Unlock()
		if err != nil {
			return nil, false, err
		}
		return f, true, nil
	}
}

// release drops one reference; the last one closes the flow.
func (a *Agent) releaseFlow(f *flow) {
	if f == nil {
		return
	}
	ft := &a.flows
	ft.mu.Lock()
	f.refs--
	last := f.refs <= 0
	if last && ft.flows[f.key] == f {
		delete(ft.flows, f.key)
	}
	ft.mu.Unlock()
	if last {
		f.fail(fmt.Errorf("%w: no longer used", ErrFlowFailed))
	}
}

// dialFlow connects to t and hands the connection to sipgo.
func (a *Agent) dialFlow(ctx context.Context, t target) (*flow, error) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.RequestTimeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", t.addr.String())
	if err != nil {
		return nil, fmt.Errorf("%w: connect %s %s: %w", ErrNoResponse, t.transport, t.addr, err)
	}
	conn := raw
	l := a.tcpFlows
	if t.transport == "tls" {
		conf := a.tlsConf.Clone()
		conf.ServerName = t.serverName
		tc := tls.Client(raw, conf)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("%w: TLS with %s (%s): %w", ErrNoResponse, t.addr, t.serverName, err)
		}
		conn = tc
		l = a.tlsFlows
	}
	local, _ := netip.ParseAddrPort(raw.LocalAddr().String())
	f := &flow{
		key:   flowKey{transport: t.transport, addr: t.addr},
		conn:  conn,
		local: netip.AddrPortFrom(local.Addr().Unmap(), local.Port()),
		dead:  make(chan struct{}),
		alive: make(chan struct{}, 1),
		refs:  1,
	}
	if err := l.give(ctx, &flowConn{Conn: newTapConn(conn, a.cfg.Tap), f: f}); err != nil {
		f.fail(err)
		if errors.Is(err, ErrAgentClosed) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s %s: %w", ErrNoResponse, t.transport, t.addr, err)
	}
	if a.cfg.Keepalive > 0 {
		a.wg.Go(func() { f.keepalive(a.cfg.Keepalive, a.cfg.PongTimeout, a.rnd) })
	}
	a.log.Debug("flow open", "transport", t.transport, "remote", t.addr.String(), "local", f.local.String())
	return f, nil
}

// closeFlows ends every flow; new ones can no longer be made.
func (a *Agent) closeFlows() {
	ft := &a.flows
	ft.mu.Lock()
	ft.closed = true
	flows := make([]*flow, 0, len(ft.flows))
	for _, f := range ft.flows {
		flows = append(flows, f)
	}
	clear(ft.flows)
	ft.mu.Unlock()
	for _, f := range flows {
		f.fail(ErrAgentClosed)
	}
}
