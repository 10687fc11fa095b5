package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/board/sim"
	"github.com/tipring/tipring/dsp/g711"
	"github.com/tipring/tipring/firmware/capture"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/sip/siptest/kamailiotest"
	"github.com/tipring/tipring/sip/siptest/testca"
)

// BenchmarkGatewayLatency measures the latency the gateway adds to a call
// at ptime 20, each side on its own: a click said into port 1's
// mouthpiece, carried as RTP through the gateway's own media path to port 2
// (a call 1001 → 1002 through Kamailio; the RTP goes straight between the
// two sessions over loopback) and found in port 2's earpiece.
//
//   - mouth → wire: from the moment the click's first sample entered
//     port 1's microphone to the moment the RTP packet carrying it left
//     (the capture's time stamp of the packet sent);
//   - wire → ear: from the moment that packet arrived at port 2's session
//     to the moment the click's first sample played in port 2's earpiece.
//
// The simulated board's PCM clock gives the sample times: a mouthpiece
// frame handed over at a tick was spoken during the 20 ms before it
// (sim.Phone.SaidAt), an earpiece frame handed over at a tick plays during
// the 20 ms after it (sim.Phone.HeardAt); real hardware has the same
// framing, one PCM period each way. Both are measured with keys sent as
// RFC 4733 events (the default, with its one-frame hold-back to cut a
// key's tone out of the audio) and in-band (no hold-back).
//
// It needs Kamailio and takes about twenty seconds: `go test -run '^$'
// -bench GatewayLatency ./firmware`. Skipped under -short; plain `go test`
// runs no benchmarks.
func BenchmarkGatewayLatency(b *testing.B) {
	if testing.Short() {
		b.Skip("end-to-end latency with Kamailio: native run only")
	}
	for _, c := range []struct {
		dtmf    string
		playout int // board.playout_ms, 0 for the default (20)
	}{{"rfc4733", 0}, {"inband", 0}, {"rfc4733", 5}, {"rfc4733", 2}} {
		b.Run(fmt.Sprintf("dtmf=%s/playout=%d", c.dtmf, cmp.Or(c.playout, 20)), func(b *testing.B) { benchLatency(b, c.dtmf, c.playout) })
	}
}

func benchLatency(b *testing.B, dtmf string, playout int) {
	g := latGateway(b, dtmf, playout)
	board, ok := g.board.(*sim.Board)
	if !ok {
		b.Fatal("not the simulated board")
	}
	mouth, ear := board.Phones()[0], board.Phones()[1]
	latCall(b, g, mouth, ear)
	time.Sleep(time.Second) // the jitter buffer settles
	loud := func(v int16) bool { return v > 4000 || v < -4000 }
	click := []int16{16000, -16000, 16000, -16000}
	const trials = 16
	// said: the click entered the microphone; heard: it played in the
	// earpiece; took: the tick at which port 2's line took the frame
	// holding it from its jitter buffer.
	type trial struct{ said, heard, took time.Time }
	var ts []trial
	if err := g.capture.Start(time.Minute); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		for range trials {
			time.Sleep(time.Duration(rand.IntN(20000)) * time.Microsecond) // a random phase of the PCM clock
			if err := mouth.Say(click); err != nil {
				b.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			tick, idx, ok := mouth.SaidAt()
			if !ok {
				b.Fatal("the click was not spoken within 300 ms")
			}
			x, earTick := ear.HeardAt(300) // 15 whole frames, the last one handed over at earTick
			i := slices.IndexFunc(x, loud)
			if i < 0 {
				b.Fatal("the click did not reach port 2 within 300 ms")
			}
			framesAfter := (len(x) - 1 - i) / hal.FrameSamples
			frameStart := len(x) - (framesAfter+1)*hal.FrameSamples
			ts = append(ts, trial{
				said:  tick.Add(-hal.FrameDuration + time.Duration(idx)*time.Second/8000),
				heard: earTick.Add(-time.Duration(framesAfter)*hal.FrameDuration + time.Duration(i-frameStart)*time.Second/8000),
				// The frame plays from playout after the tick that
				// took it.
				took: earTick.Add(-time.Duration(framesAfter)*hal.FrameDuration - time.Duration(cmp.Or(playout, 20))*time.Millisecond),
			})
		}
	}
	b.StopTimer()
	g.capture.Stop()
	var pcap bytes.Buffer
	if err := g.capture.WritePCAP(&pcap); err != nil {
		b.Fatal(err)
	}
	pkts, err := capture.ReadPCAP(&pcap)
	if err != nil {
		b.Fatal(err)
	}
	// Each packet with the click is in the capture twice: sent by port
	// 1's session, then received by port 2's (the same bytes, a few
	// microseconds apart on loopback).
	var sends, recvs []time.Time
	seen := map[string]int{} // RTP packets are unique: their headers differ
	for _, p := range pkts {
		if len(p.Payload) != 12+hal.FrameSamples || !slices.ContainsFunc(p.Payload[12:], func(c byte) bool { return loud(g711.UlawToLinear(c)) }) {
			continue
		}
		if k, ok := seen[string(p.Payload)]; ok {
			recvs[k] = p.At
			continue
		}
		seen[string(p.Payload)] = len(sends)
		sends = append(sends, p.At)
		recvs = append(recvs, time.Time{})
	}
	if len(sends) != len(ts) || slices.ContainsFunc(recvs, time.Time.IsZero) {
		b.Fatalf("%d trials, but %d packets with the click sent, received: %v", len(ts), len(sends), recvs)
	}
	var m2w, w2e, waits []time.Duration
	for k, t := range ts {
		m2w = append(m2w, sends[k].Sub(t.said))
		w2e = append(w2e, t.heard.Sub(recvs[k]))
		waits = append(waits, t.took.Sub(recvs[k]))
	}
	slices.Sort(m2w)
	slices.Sort(w2e)
	slices.Sort(waits)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	med := func(ds []time.Duration) time.Duration { return ds[len(ds)/2] }
	b.ReportMetric(ms(med(m2w)), "ms-mouth-to-wire")
	b.ReportMetric(ms(med(w2e)), "ms-wire-to-ear")
	b.ReportMetric(ms(med(waits)), "ms-in-jitter-buffer")
	b.ReportMetric(ms(med(m2w)+med(w2e)), "ms-mouth-to-ear")
	b.ReportMetric(0, "ns/op")
	b.Logf("dtmf %s, playout %d ms, ptime 20, %d trials: mouth → wire median %.2f ms (%.2f…%.2f); wire → ear median %.2f ms (%.2f…%.2f), of which %.2f ms in the jitter buffer (arrival to the tick that took it)",
		dtmf, cmp.Or(playout, 20), len(ts), ms(med(m2w)), ms(m2w[0]), ms(m2w[len(m2w)-1]), ms(med(w2e)), ms(w2e[0]), ms(w2e[len(w2e)-1]), ms(med(waits)))
	b.Logf("expected: mouth → wire = ptime %v (the frame is spoken before it is read) + processing (a key's start holds the mouthpiece back one frame more; a click is not one); wire → ear = the wait in the jitter buffer for the tick that plays it (at most a frame here: both ports share the PCM clock) + board.playout_ms (the frame a line writes after a tick plays that long after it; the same on real hardware, hal/alsa) + the codec's filters and processing",
		hal.FrameDuration)
}

// latGateway runs Kamailio and the gateway in-process with two ports
// registered as 1001 and 1002, plain RTP, ptime 20.
func latGateway(tb testing.TB, dtmf string, playout int) *gateway {
	tb.Helper()
	ca, err := testca.New("latency CA")
	if err != nil {
		tb.Fatal(err)
	}
	srv := kamailiotest.Start(tb, kamailiotest.Config{CA: ca, Users: []kamailiotest.User{
		{Name: "1001", Password: "pw1001"}, {Name: "1002", Password: "pw1002"},
	}})
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), ca.CertPEM, 0o600); err != nil {
		tb.Fatal(err)
	}
	doc := fmt.Sprintf(`version = 1
[board]
name = "sim"
ports = 2
playout_ms = %d
[web]
listen = "127.0.0.1:0"
[sip]
listen = "127.0.0.1:0"
registrar = %q
transport = "tls"
ca_file = "ca.pem"
srtp = "off"
dtmf = %q
ptime_ms = 20
mwi_subscribe = false
[region]
country = "us"
[[line]]
port = 1
user = "1001"
password = "pw1001"
[[line]]
port = 2
user = "1002"
password = "pw1002"
`, playout, srv.TLSAddr, dtmf)
	cfg := filepath.Join(dir, "tipring.toml")
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *gateway, 1)
	done := make(chan int, 1)
	logs := &syncWriter{w: new(bytes.Buffer)}
	go func() { done <- run(ctx, []string{"-config", cfg, "-log-level", "info"}, nil, io.Discard, logs, ready) }()
	var g *gateway
	select {
	case g = <-ready:
	case <-done:
		cancel()
		tb.Fatalf("gateway exited before serving:\n%s", logs.String())
	case <-time.After(10 * time.Second):
		cancel()
		tb.Fatal("gateway did not start within 10 s")
	}
	tb.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			tb.Error("gateway did not stop within 10 s")
		}
		if tb.Failed() {
			tb.Logf("gateway log:\n%s", tail(logs.String(), 100))
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		n := 0
		for _, st := range g.lineStatus() {
			if st.Registration == "registered" {
				n++
			}
		}
		if n == 2 {
			return g
		}
		if time.Now().After(deadline) {
			tb.Fatalf("lines not registered: %+v", g.lineStatus())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// latCall makes port 1 call 1002 and port 2 answer.
func latCall(tb testing.TB, g *gateway, caller, callee *sim.Phone) {
	tb.Helper()
	ctx := context.Background()
	latWait(tb, "caller off-hook", func() bool { return caller.HookAction(ctx, "off") == nil })
	latWait(tb, "dial tone", func() bool { return g.lines[0].Status().State == "dialtone" })
	if err := caller.Dial(ctx, "1002#", false); err != nil {
		tb.Fatal(err)
	}
	latWait(tb, "port 2 ringing", func() bool { return callee.State().Ringing })
	if err := callee.HookAction(ctx, "off"); err != nil {
		tb.Fatal(err)
	}
	latWait(tb, "connected", func() bool {
		return g.lines[0].Status().State == "connected" && g.lines[1].Status().State == "connected"
	})
	if c := g.lines[0].Status().Call; c == nil || c.Local || !strings.HasPrefix(c.Codec, "PCM") {
		tb.Fatalf("not a G.711 call over SIP: %+v", c)
	}
}

func latWait(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("no %s within 10 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// latMode is the most frequent value of xs.
func latMode(xs []int) int {
	count := map[int]int{}
	best, n := 0, 0
	for _, x := range xs {
		count[x]++
		if count[x] > n {
			best, n = x, count[x]
		}
	}
	return best
}
