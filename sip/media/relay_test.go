package media

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/hal"
)

// relay forwards datagrams between two sessions and impairs the RTP going
// from the first to the second: loss, duplication and a random delay that
// reorders. RTCP (RFC 5761 packet types) passes unharmed, so that the
// reports can be checked against what the relay did.
type relay struct {
	t         testing.TB
	sideA     *net.UDPConn // the first session sends here
	sideB     *net.UDPConn // the second session sends here
	toA, toB  netip.AddrPort
	loss, dup float64
	maxDelay  time.Duration
	mu        sync.Mutex
	rng       *rand.Rand
	tally     counter
	wg        sync.WaitGroup
}

func newRelay(t testing.TB, loss, dup float64, maxDelay time.Duration) *relay {
	r := &relay{t: t, loss: loss, dup: dup, maxDelay: maxDelay, rng: rand.New(rand.NewPCG(1, 2))}
	for _, c := range []**net.UDPConn{&r.sideA, &r.sideB} {
		conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
		if err != nil {
			t.Fatal(err)
		}
		*c = conn
	}
	t.Cleanup(func() {
		r.sideA.Close()
		r.sideB.Close()
		r.wg.Wait()
	})
	return r
}

func (r *relay) start(a, b netip.AddrPort) {
	r.toA, r.toB = a, b
	r.wg.Add(2)
	go r.pump(r.sideA, r.sideB, r.toB, true)
	go r.pump(r.sideB, r.sideA, r.toA, false)
}

func (r *relay) pump(in, out *net.UDPConn, to netip.AddrPort, impair bool) {
	defer r.wg.Done()
	buf := make([]byte, maxDatagram)
	for {
		n, _, err := in.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		pkt := append([]byte(nil), buf[:n]...)
		isRTCP := n > 1 && pkt[1] >= 192 && pkt[1] <= 223
		if !impair || isRTCP {
			out.WriteToUDPAddrPort(pkt, to)
			continue
		}
		r.mu.Lock()
		drop := r.rng.Float64() < r.loss
		copies := 1
		if !drop && r.rng.Float64() < r.dup {
			copies = 2
		}
		delays := [2]time.Duration{time.Duration(r.rng.Int64N(int64(r.maxDelay))), time.Duration(r.rng.Int64N(int64(r.maxDelay)))}
		r.mu.Unlock()
		r.tally.add("rtp", 1)
		if drop {
			r.tally.add("dropped", 1)
			continue
		}
		if copies == 2 {
			r.tally.add("duplicated", 1)
		}
		for i := range copies {
			r.wg.Add(1)
			time.AfterFunc(delays[i], func() {
				defer r.wg.Done()
				out.WriteToUDPAddrPort(pkt, to)
			})
		}
	}
}

func TestRFC3550Section6_4_1ImpairedPath(t *testing.T) {
	frames := 250
	if testing.Short() {
		frames = 150
	}
	rl := newRelay(t, 0.05, 0.02, 60*time.Millisecond)
	cfg := Config{RTCPInterval: 300 * time.Millisecond}
	a, b := listen(t, cfg), listen(t, cfg)
	rl.start(a.LocalRTP(), b.LocalRTP())
	// Both use rtcp-mux so that the reports take the relay as well.
	if err := a.Apply(result(a, nil, leg{mux: true, remote: addrPortOf(rl.sideA)})); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(result(b, nil, leg{mux: true, remote: addrPortOf(rl.sideB)})); err != nil {
		t.Fatal(err)
	}
	var out []int16
	clock(frames, func(n int) bool {
		f := tone(n)
		a.WriteFrame(&f)
		var g hal.Frame
		b.ReadFrame(&g)
		out = append(out, g[:]...)
		var h hal.Frame
		b.WriteFrame(&h)
		return true
	})
	time.Sleep(150 * time.Millisecond) // the delayed packets land
	st := b.Stats()
	dropped, duplicated, sent := rl.tally.get("dropped"), rl.tally.get("duplicated"), rl.tally.get("rtp")
	t.Logf("relay: %d RTP packets, %d dropped (%.1f %%), %d duplicated", sent, dropped, 100*float64(dropped)/float64(sent), duplicated)
	t.Logf("b: expected %d received %d lost %d jitter %v; buffer %+v", st.Expected, st.PacketsReceived, st.Lost, st.Jitter, st.Buffer)

	// Loss as A.3 counts it: duplicates count as received. The first
	// packet is the source's probation packet, outside the count.
	if want := dropped - duplicated; int(st.Lost) < want-2 || int(st.Lost) > want+2 {
		t.Errorf("cumulative lost %d, relay dropped %d and duplicated %d", st.Lost, dropped, duplicated)
	}
	// Delays uniform over 0-60 ms: the mean |D| of A.8 is 20 ms.
	if st.Jitter < 10*time.Millisecond || st.Jitter > 35*time.Millisecond {
		t.Errorf("jitter %v, want about 20 ms", st.Jitter)
	}
	if st.Buffer.Target < 40*time.Millisecond || st.Buffer.Target > 200*time.Millisecond {
		t.Errorf("jitter buffer target %v for 60 ms of jitter", st.Buffer.Target)
	}
	// The audio continues: after the start, nearly every frame carries
	// the tone at about its level.
	loud := 0
	total := 0
	for i := 25 * hal.FrameSamples; i+hal.FrameSamples <= len(out); i += hal.FrameSamples {
		total++
		if dsp.DBm0FromRMS(dsp.RMS(out[i:i+hal.FrameSamples])) > toneLevel-6 {
			loud++
		}
	}
	t.Logf("frames with the tone: %d of %d", loud, total)
	if float64(loud) < 0.9*float64(total) {
		t.Errorf("only %d of %d frames carried the tone", loud, total)
	}

	// What b reported to a matches: its last report's cumulative loss
	// trails the final count by at most the last interval's losses.
	waitFor(t, 2*time.Second, "a report from b", func() bool { return a.Stats().RemoteReport })
	time.Sleep(2 * cfg.RTCPInterval)
	sa := a.Stats()
	t.Logf("a: remote lost %d fraction %.3f jitter %v RTT %v", sa.RemoteLost, sa.RemoteFractionLost, sa.RemoteJitter, sa.RTT)
	if d := int(st.Lost) - int(sa.RemoteLost); d < -1 || d > 1 {
		t.Errorf("reported cumulative lost %d, b counts %d", sa.RemoteLost, st.Lost)
	}
	if d := sa.RemoteJitter - st.Jitter; d < -3*time.Millisecond || d > 3*time.Millisecond {
		t.Errorf("reported jitter %v, b measures %v", sa.RemoteJitter, st.Jitter)
	}
}

// A call of 10 s (3 s with -short) through 5 % loss and delays uniform over
// 0-100 ms, so that packets arrive far out of order: the session stays up,
// the tone goes on in more than 90 % of the frames, and the concealment
// replaces about as many frames as went missing (lost, or too late for
// the jitter buffer's target). The assertions are on counts, with
// tolerances, never on wall-clock times.
func TestImpairedPath100msJitter(t *testing.T) {
	frames := 500
	if testing.Short() {
		frames = 150
	}
	rl := newRelay(t, 0.05, 0, 100*time.Millisecond)
	cfg := Config{RTCPInterval: 500 * time.Millisecond}
	a, b := listen(t, cfg), listen(t, cfg)
	rl.start(a.LocalRTP(), b.LocalRTP())
	if err := a.Apply(result(a, nil, leg{mux: true, remote: addrPortOf(rl.sideA)})); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(result(b, nil, leg{mux: true, remote: addrPortOf(rl.sideB)})); err != nil {
		t.Fatal(err)
	}
	var out []int16
	written := 0
	clock(frames, func(n int) bool {
		f := tone(n)
		a.WriteFrame(&f)
		written++
		var g hal.Frame
		b.ReadFrame(&g)
		out = append(out, g[:]...)
		var h hal.Frame
		b.WriteFrame(&h)
		return true
	})
	time.Sleep(200 * time.Millisecond) // the delayed packets land
	st := b.Stats()
	dropped, sent := rl.tally.get("dropped"), rl.tally.get("rtp")
	missing := dropped + int(st.Buffer.Late)
	t.Logf("relay: %d RTP packets, %d dropped (%.1f %%); b: lost %d, jitter %v, late %d", sent, dropped, 100*float64(dropped)/float64(sent), st.Lost, st.Jitter, st.Buffer.Late)
	t.Logf("jitter buffer: depth %v target %v, underruns %d, stretched %d, shrunk %d samples; concealed %d frames (PLC), %d with gaps; PLC delay %v",
		st.Buffer.Depth, st.Buffer.Target, st.Buffer.Underruns, st.Buffer.Stretched, st.Buffer.Shrunk, st.Concealed, st.Buffer.Concealed, ConcealmentDelay)
	if st.PacketsReceived < uint64(sent-dropped)*9/10 {
		t.Errorf("b received %d packets of %d passed", st.PacketsReceived, sent-dropped)
	}
	if int(st.Lost) < dropped-2 || int(st.Lost) > dropped+2 {
		t.Errorf("cumulative lost %d, relay dropped %d", st.Lost, dropped)
	}
	// A.8 on delays uniform over 0-100 ms: E|U1-U2| = 33 ms.
	if st.Jitter < 20*time.Millisecond || st.Jitter > 80*time.Millisecond {
		t.Errorf("jitter %v, want about 33 ms", st.Jitter)
	}
	// Concealment replaces the frames lost or late, and those played
	// while waiting for a late packet (stretching), a few more at the
	// start while the target grows.
	stretched := int(st.Buffer.Stretched / hal.FrameSamples)
	if c := int(st.Concealed); c < missing*8/10 || c > missing+stretched+int(st.Buffer.Underruns)+5 {
		t.Errorf("concealed %d frames; %d lost or late, %d stretched, %d underruns", c, missing, stretched, st.Buffer.Underruns)
	}
	if st.Concealed == 0 {
		t.Error("nothing concealed")
	}
	loud, total := 0, 0
	for i := 25 * hal.FrameSamples; i+hal.FrameSamples <= len(out); i += hal.FrameSamples {
		total++
		if dsp.DBm0FromRMS(dsp.RMS(out[i:i+hal.FrameSamples])) > toneLevel-6 {
			loud++
		}
	}
	t.Logf("frames with the tone: %d of %d (%.1f %%)", loud, total, 100*float64(loud)/float64(total))
	if float64(loud) < 0.9*float64(total) {
		t.Errorf("only %d of %d frames carried the tone", loud, total)
	}
	if st.ByeReceived || st.RemoteSSRC != a.SSRC() {
		t.Errorf("session not up: bye %v, remote SSRC %08x", st.ByeReceived, st.RemoteSSRC)
	}
}
