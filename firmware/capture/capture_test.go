package capture

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
)

var (
	local  = netip.MustParseAddrPort("127.0.0.1:16384")
	remote = netip.MustParseAddrPort("192.0.2.7:20000")
)

func TestCaptureRoundTrip(t *testing.T) {
	c := New(1<<16, 16)
	c.Tap(Sent, local, remote, []byte("before the capture"))
	if err := c.Start(time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(time.Minute); err != ErrBusy {
		t.Errorf("a second Start: %v, want ErrBusy", err)
	}
	c.Tap(Sent, local, remote, []byte("INVITE sip:1002@example.com SIP/2.0\r\n"))
	c.Tap(Received, local, remote, []byte("SIP/2.0 200 OK\r\n"))
	v6 := netip.MustParseAddrPort("[2001:db8::1]:5060")
	c.Tap(Received, local, v6, []byte{0x80, 0, 0, 1})
	st := c.Status()
	if !st.Running || st.Packets != 3 {
		t.Fatalf("status %+v", st)
	}
	var buf bytes.Buffer
	if err := c.WritePCAP(&buf); err != nil {
		t.Fatal(err)
	}
	pkts, err := ReadPCAP(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) != 3 {
		t.Fatalf("%d packets", len(pkts))
	}
	if pkts[0].Src != local || pkts[0].Dst != remote || !bytes.HasPrefix(pkts[0].Payload, []byte("INVITE")) {
		t.Errorf("packet 1: %v → %v %q", pkts[0].Src, pkts[0].Dst, pkts[0].Payload)
	}
	if pkts[1].Src != remote || pkts[1].Dst != local {
		t.Errorf("packet 2: %v → %v", pkts[1].Src, pkts[1].Dst)
	}
	if pkts[2].Src.Addr() != v6.Addr() || pkts[2].Src.Port() != 5060 || !pkts[2].Dst.Addr().Is6() {
		t.Errorf("packet 3: %v → %v", pkts[2].Src, pkts[2].Dst)
	}
}

// The buffer's limits hold: packets beyond them are counted, not kept,
// and a capture ends when its time is up.
func TestCaptureLimits(t *testing.T) {
	now := time.Unix(1e9, 0)
	c := New(100, 3)
	c.now = func() time.Time { return now }
	c.Start(time.Second)
	for range 5 {
		c.Tap(Sent, local, remote, make([]byte, 30))
	}
	if st := c.Status(); st.Packets != 3 || st.Dropped != 2 || st.Bytes != 90 {
		t.Errorf("status %+v, want 3 kept, 2 dropped", st)
	}
	c.Start(time.Second) // the buffer is full but the time not up
	now = now.Add(2 * time.Second)
	c.Tap(Sent, local, remote, make([]byte, 10))
	if st := c.Status(); st.Running || st.Packets != 3 {
		t.Errorf("after the time: %+v", st)
	}
	if err := c.Start(time.Second); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); st.Packets != 0 || !st.Running {
		t.Errorf("a new capture: %+v", st)
	}
}

func TestTapZeroAllocs(t *testing.T) {
	c := New(1<<20, 1<<12)
	c.Start(time.Minute)
	pkt := make([]byte, 172)
	if n := testing.AllocsPerRun(1000, func() { c.Tap(Sent, local, remote, pkt) }); n != 0 {
		t.Errorf("Tap allocates %.1f times per packet", n)
	}
	c.Stop()
	if n := testing.AllocsPerRun(1000, func() { c.Tap(Sent, local, remote, pkt) }); n != 0 {
		t.Errorf("Tap allocates %.1f times per packet when stopped", n)
	}
}
