package call

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tipring/tipring/sip/sdp"
	"github.com/tipring/tipring/sip/siptest"
	"github.com/tipring/tipring/sip/ua"
)

func testLogger(t testing.TB) *slog.Logger { return siptest.Logger(t, slog.LevelInfo) }

// sinkMedia is a Media for tests: a UDP socket on loopback counting the
// RTP packets that reach it and sending a few to the peer once started.
type sinkMedia struct {
	conn    *net.UDPConn
	packets atomic.Int64
	mu      sync.Mutex
	results []*sdp.Result
	closed  bool
	stop    chan struct{}
	wg      sync.WaitGroup
}

func newSinkMedia(context.Context) (*sinkMedia, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	m := &sinkMedia{conn: c, stop: make(chan struct{})}
	m.wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			if n >= 12 && buf[0]>>6 == 2 {
				m.packets.Add(1)
			}
		}
	})
	return m, nil
}

func (m *sinkMedia) LocalAddr() netip.AddrPort {
	return m.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

func (m *sinkMedia) Start(res *sdp.Result) error {
	m.mu.Lock()
	m.results = append(m.results, res)
	m.mu.Unlock()
	// A little RTP (PCMU silence) so the peer sees media.
	m.wg.Go(func() {
		pkt := make([]byte, 12+160)
		pkt[0] = 0x80
		pkt[1] = res.PayloadType
		for i := range 10 {
			pkt[3] = byte(i)
			pkt[7] = byte(i * 160 >> 0)
			_, _ = m.conn.WriteToUDPAddrPort(pkt, res.Remote)
			select {
			case <-m.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	return nil
}

func (m *sinkMedia) Update(res *sdp.Result) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.results = append(m.results, res)
	return nil
}

func (m *sinkMedia) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	close(m.stop)
	err := m.conn.Close()
	m.wg.Wait()
	return err
}

func (m *sinkMedia) last() *sdp.Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.results) == 0 {
		return nil
	}
	return m.results[len(m.results)-1]
}

// medias records the media made for a line's calls.
type medias struct {
	mu   sync.Mutex
	list []*sinkMedia
}

func (ms *medias) factory(ctx context.Context) (Media, error) {
	m, err := newSinkMedia(ctx)
	if err != nil {
		return nil, err
	}
	ms.mu.Lock()
	ms.list = append(ms.list, m)
	ms.mu.Unlock()
	return m, nil
}

func (ms *medias) get(i int) *sinkMedia {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if i >= len(ms.list) {
		return nil
	}
	return ms.list[i]
}

// fixture is an agent with a router and one line.
type fixture struct {
	agent  *ua.Agent
	router *Router
	line   *Line
	media  *medias
}

func newFixture(t *testing.T, mod func(*Config)) *fixture {
	t.Helper()
	log := testLogger(t)
	a, err := ua.NewAgent(t.Context(), ua.AgentConfig{ListenAddr: "127.0.0.1:0", Logger: log, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{agent: a, router: NewRouter(a, log), media: &medias{}}
	cfg := Config{
		User: "1001", Domain: "127.0.0.1", Transport: "udp", NewMedia: f.media.factory, Logger: log,
		T1: 100 * time.Millisecond, RequestTimeout: 5 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	l, err := f.router.NewLine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.line = l
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := f.router.Close(ctx); err != nil {
			t.Errorf("router close: %v", err)
		}
		if err := a.Close(ctx); err != nil {
			t.Errorf("agent close: %v", err)
		}
	})
	return f
}

// wait returns the next event of kind k within d, failing on EventEnded
// unless that is what is awaited.
func wait(t *testing.T, c *Call, k EventKind, d time.Duration) Event {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("waiting for %v: events closed", k)
			}
			if ev.Kind == k {
				return ev
			}
			if ev.Kind == EventEnded {
				t.Fatalf("waiting for %v: call ended: cause %v, %d %s, err %v", k, ev.Cause, ev.Code, ev.Reason, ev.Err)
			}
		case <-timer.C:
			t.Fatalf("waiting for %v: timed out after %v in state %v", k, d, c.State())
		}
	}
}

func incoming(t *testing.T, l *Line, d time.Duration) *Call {
	t.Helper()
	select {
	case c := <-l.Incoming():
		return c
	case <-time.After(d):
		t.Fatalf("no incoming call within %v", d)
	}
	return nil
}

func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
