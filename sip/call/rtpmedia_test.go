package call

import (
	"context"
	"encoding/binary"
	"math"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/sip/media"
	"github.com/tipring/tipring/sip/sdp"
	"github.com/tipring/tipring/sip/siptest/baresiptest"
)

// rtpFactory makes RTPMedia on loopback for tests and records them.
type rtpFactory struct {
	mu   sync.Mutex
	list []*recMedia
}

// recMedia is an RTPMedia that keeps the results applied to it.
type recMedia struct {
	*RTPMedia
	mu      sync.Mutex
	results []*sdp.Result
}

func (m *recMedia) Start(res *sdp.Result) error {
	m.mu.Lock()
	m.results = append(m.results, res)
	m.mu.Unlock()
	return m.RTPMedia.Start(res)
}

func (m *recMedia) Update(res *sdp.Result) error {
	m.mu.Lock()
	m.results = append(m.results, res)
	m.mu.Unlock()
	return m.RTPMedia.Update(res)
}

func (m *recMedia) last() *sdp.Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.results) == 0 {
		return nil
	}
	return m.results[len(m.results)-1]
}

func (f *rtpFactory) install(t *testing.T, cfg *Config) {
	newMedia := NewRTPMediaFactory(media.Config{Addr: netip.MustParseAddr("127.0.0.1"), Logger: testLogger(t)}, netip.Addr{})
	cfg.NewMedia = func(ctx context.Context) (Media, error) {
		m, err := newMedia(ctx)
		if err != nil {
			return nil, err
		}
		rm := &recMedia{RTPMedia: m.(*RTPMedia)}
		f.mu.Lock()
		f.list = append(f.list, rm)
		f.mu.Unlock()
		return rm, nil
	}
}

func (f *rtpFactory) get(t *testing.T, i int) *recMedia {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.list) {
		t.Fatalf("no media %d (have %d)", i, len(f.list))
	}
	return f.list[i]
}

// pump drives an RTPMedia like a line's media loop: every 20 ms it
// writes a frame of a 1 kHz tone and reads a frame of received audio,
// whose mean power it keeps.
type pump struct {
	m    *recMedia
	stop chan struct{}
	done chan struct{}

	mu             sync.Mutex
	energy         float64
	frames, loud   int
	consecutiveMax int
	run            int
}

func startPump(m *recMedia) *pump {
	p := &pump{m: m, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(hal.FrameDuration)
		defer tick.Stop()
		var out, in hal.Frame
		for n := 0; ; n++ {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			for i := range out {
				k := n*hal.FrameSamples + i
				out[i] = int16(6000 * math.Sin(2*math.Pi*1000*float64(k)/8000))
			}
			if err := m.WriteFrame(&out); err != nil {
				return
			}
			if err := m.ReadFrame(&in); err != nil {
				return
			}
			var e float64
			for _, v := range in {
				e += float64(v) * float64(v)
			}
			e /= hal.FrameSamples
			p.mu.Lock()
			p.energy += e
			p.frames++
			if e > 1e5 { // RMS above about 316: clearly not silence
				p.loud++
				p.run++
				p.consecutiveMax = max(p.consecutiveMax, p.run)
			} else {
				p.run = 0
			}
			p.mu.Unlock()
		}
	}()
	return p
}

// loudFrames returns how many frames received so far carried audio.
func (p *pump) loudFrames() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.loud
}

func (p *pump) halt() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
}

// wavRMS returns the RMS of the 16-bit samples of a WAV file's data
// chunk, skipping the first skip samples.
func wavRMS(t *testing.T, path string, skip int) (float64, int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" {
		t.Fatalf("%s: not a WAV file", path)
	}
	for off := 12; off+8 <= len(b); {
		id, n := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		off += 8
		if id != "data" {
			off += n + n&1
			continue
		}
		data := b[off:]
		if n < len(data) && n > 0 {
			data = data[:n]
		}
		var sum float64
		count := 0
		for i := 2 * skip; i+1 < len(data); i += 2 {
			v := float64(int16(binary.LittleEndian.Uint16(data[i:])))
			sum += v * v
			count++
		}
		if count == 0 {
			return 0, 0
		}
		return math.Sqrt(sum / float64(count)), count
	}
	t.Fatalf("%s: no data chunk", path)
	return 0, 0
}

// RFC 3550 §5 and RFC 3551 §4.5.14 with a real peer: our line calls
// baresip with a media.Session as the call's media; a 1 kHz tone goes
// out as PCMU and baresip's 440 Hz tone comes back, both ways counted in
// the session's statistics and heard in the decoded audio.
func TestRFC3550Section5MediaSessionCallToBaresip(t *testing.T) {
	peer := baresiptest.Start(t, baresiptest.Config{AutoAnswer: true})
	var rf rtpFactory
	f := newFixture(t, func(c *Config) { c.Proxy = peer.SIPAddr; rf.install(t, c) })
	c, err := f.line.Dial(t.Context(), peer.URI)
	if err != nil {
		t.Fatal(err)
	}
	wait(t, c, EventAnswered, 10*time.Second)
	m, ok := c.Media().(*recMedia)
	if !ok || m != rf.get(t, 0) {
		t.Fatalf("call media %T is not the factory's", c.Media())
	}
	p := startPump(m)
	defer p.halt()
	eventually(t, 5*time.Second, "audio from baresip", func() bool { return p.loudFrames() >= 50 })
	eventually(t, 5*time.Second, "a second of RTP both ways", func() bool {
		st := m.Stats()
		return st.PacketsSent >= 50 && st.PacketsReceived >= 50
	})
	p.halt()
	st := m.Stats()
	if st.DroppedAuth+st.DroppedPayloadType+st.DroppedMalformed != 0 {
		t.Errorf("dropped packets: %+v", st)
	}
	hangup(t, c)
	if _, err := peer.WaitEvent("CALL_CLOSED", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// baresip records what it heard: our tone, after its own start-up.
	var heard string
	eventually(t, 5*time.Second, "baresip's recording", func() bool {
		heard = peer.HeardFile()
		fi, err := os.Stat(heard)
		return heard != "" && err == nil && fi.Size() > 44+2*4000
	})
	if rms, n := wavRMS(t, heard, 800); rms < 1000 {
		t.Errorf("baresip heard RMS %.0f over %d samples, want our tone (about 4200)", rms, n)
	}
}
