package media

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/tipring/tipring/dsp/cng"
	"github.com/tipring/tipring/dsp/dtmf/rfc4733"
	"github.com/tipring/tipring/dsp/g711"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/sip/sdp"
)

// headerSize is the size of the fixed RTP header (RFC 3550 §5.1); the
// session sends no CSRCs and no extension.
const headerSize = 12

// maxPtimeSamples is the largest packet the session sends: 30 ms.
const maxPtimeSamples = 240

// sendState is the sending half of a session, owned by txMu.
type sendState struct {
	configured bool
	prev       *sdp.Result // the last result applied, for SameSRTP

	law    g711.Law
	pt     uint8
	dtmf   bool
	dtmfPT uint8
	psize  int // samples per packet
	sends  bool
	mux    bool
	remote netip.AddrPort
	rtcpTo netip.AddrPort
	ctx    *srtp.Context

	seq    uint16
	ts     uint32 // timestamp of the next frame's first sample
	marker bool   // the next audio packet starts a talkspurt

	// clockTS and clockWall pair the timestamp of the last frame with
	// the wallclock, for the RTP time of sender reports.
	clockTS   uint32
	clockWall time.Time

	// Encoded samples not yet sent: ptime 30 spans frames.
	carry   [hal.FrameSamples + maxPtimeSamples]byte
	carryN  int
	carryTS uint32

	pkt [maxDatagram]byte
	enc [maxDatagram]byte
	hdr rtp.Header

	ev    *rfc4733.Sender
	evBuf []rfc4733.Packet
	down  bool
	digit byte

	packets, octets uint64
	lastSent        time.Time
	errors          uint64

	// interval counts the intervals between sends; prevSend is the
	// frame time of the last send, zero after a pause in sending.
	interval IntervalHistogram
	prevSend time.Time

	// Silence suppression with comfort noise (Config.VAD, RFC 3389).
	cn          bool  // CN negotiated
	cnPT        uint8 // its payload type
	vad         bool  // suppressing: Config.VAD and cn
	vadEnergy   int64 // frame energy (sum of squares) under which a frame is quiet
	hangFrames  int   // Config.VADHangover in frames
	hang        int   // quiet frames still to send before a silence
	silent      bool  // in a silence: audio is not sent
	cnEnc       *cng.Encoder
	cnAge       int // frames since the last CN packet
	cnLevel     int // level of the last CN packet
	cnBuf       [1 + cng.DefaultOrder]byte
	cnSent      uint64
	suppressed  uint64 // frames not sent during silences
	passThrough bool   // SetPassThrough: never suppress
}

func (t *sendState) apply(res *sdp.Result, law g711.Law, ptime int, keep bool, ctx *srtp.Context) error {
	psize := ptime * sdp.ClockRate / 1000
	if law != t.law || psize != t.psize {
		t.carryN = 0
	}
	if res.DTMF {
		interval := uint32(psize)
		if t.ev == nil || psize != t.psize {
			ev, err := rfc4733.NewSender(rfc4733.SenderConfig{Interval: interval})
			if err != nil {
				return fmt.Errorf("%w: %w", ErrResult, err)
			}
			if t.ev == nil || !t.ev.Active() {
				t.ev = ev
				t.down = false
			}
		}
	} else if t.ev != nil && !t.ev.Active() {
		t.ev = nil
		t.down = false
	}
	t.cn, t.cnPT = res.ComfortNoise, res.CNPayloadType
	if vad := t.vadEnergy > 0 && t.cn; vad != t.vad {
		t.vad, t.silent, t.hang = vad, false, t.hangFrames
		t.cnEnc.Reset()
	}
	sends := res.Direction.Sends() && !res.RemoteHold && usable(res.Remote)
	if sends && !t.sends {
		t.marker = true
	}
	t.law, t.pt, t.psize = law, res.PayloadType, psize
	t.dtmf, t.dtmfPT = res.DTMF, res.DTMFPayloadType
	t.sends, t.remote, t.mux = sends, res.Remote, res.RTCPMux
	t.rtcpTo = res.RemoteRTCP
	if res.RTCPMux {
		t.rtcpTo = res.Remote
	}
	if !keep {
		t.ctx = ctx
	}
	t.prev = res
	t.configured = true
	return nil
}

// WriteFrame takes the next 20 ms of microphone audio. Call it once per
// PCM period: the frames' timing is the stream's timing. It encodes and
// sends as the packetisation time asks, sends nothing while a DTMF event
// is going out or the direction forbids sending, and does not allocate.
// Network errors are counted in Stats and logged, not returned: a lost
// datagram is the network's business.
func (s *Session) WriteFrame(f *hal.Frame) error {
	if s.closed.Load() {
		return ErrClosed
	}
	s.txMu.Lock()
	defer s.txMu.Unlock()
	t := &s.tx
	now := t.ts
	t.ts += hal.FrameSamples
	t.clockTS, t.clockWall = now, time.Now()
	if !t.configured {
		return nil
	}
	if t.ev != nil && t.ev.Active() {
		// RFC 4733 §2.5.1.2: the events replace the audio while a key
		// is down. The frame handed in ends at now+160: that is the time
		// the event has reached.
		t.evBuf = t.ev.Poll(now+hal.FrameSamples, t.evBuf[:0])
		for i := range t.evBuf {
			p := &t.evBuf[i]
			s.send(t.dtmfPT, p.Marker, p.Timestamp, p.Payload[:])
		}
		t.carryN = 0
		return nil
	}
	if !t.sends {
		t.prevSend = time.Time{}
		t.carryN = 0
		t.marker = true
		t.silent, t.hang = false, t.hangFrames
		return nil
	}
	if t.vad && !t.passThrough && t.suppress(f) {
		if t.cnAge == 0 {
			// RFC 3389 §4: the CN packet carries the time it describes
			// the noise from, without the marker bit.
			s.sendCN(now)
		}
		t.prevSend = time.Time{}
		t.suppressed++
		return nil
	}
	if t.carryN == 0 {
		t.carryTS = now
	}
	t.law.Encode(t.carry[t.carryN:t.carryN+hal.FrameSamples], f[:])
	t.carryN += hal.FrameSamples
	off := 0
	for t.carryN-off >= t.psize {
		s.send(t.pt, t.marker, t.carryTS, t.carry[off:off+t.psize])
		t.marker = false
		off += t.psize
		t.carryTS += uint32(t.psize)
	}
	if off > 0 {
		t.carryN = copy(t.carry[:], t.carry[off:t.carryN])
	}
	return nil
}

// suppress runs the voice activity decision on a frame and reports
// whether it is not to be sent. It feeds the quiet frames to the noise
// estimate and sets cnAge to 0 when a CN packet is due.
func (t *sendState) suppress(f *hal.Frame) bool {
	var e int64
	for _, x := range f {
		e += int64(x) * int64(x)
	}
	if e >= t.vadEnergy {
		if t.silent {
			// RFC 3551 §4.1: the first packet of a talkspurt is marked.
			t.silent, t.marker = false, true
		}
		t.hang = t.hangFrames
		t.cnEnc.Reset()
		return false
	}
	t.cnEnc.Analyze((*[hal.FrameSamples]int16)(f))
	if !t.silent {
		if t.hang > 0 {
			t.hang--
			return false
		}
		// The silence begins: what ptime 30 held back goes unsent.
		t.silent = true
		t.carryN = 0
		t.cnAge = 0
		return true
	}
	t.cnAge++
	if t.cnAge >= int(CNInterval/hal.FrameDuration) {
		t.cnAge = 0
	} else if p := t.cnEnc.Payload(); p.Level-t.cnLevel >= CNLevelStep || t.cnLevel-p.Level >= CNLevelStep {
		t.cnAge = 0
	}
	return true
}

// sendCN sends the comfort noise packet of the noise measured so far,
// timestamped ts. The caller holds txMu.
func (s *Session) sendCN(ts uint32) {
	t := &s.tx
	p := t.cnEnc.Payload()
	b, err := p.Append(t.cnBuf[:0])
	if err != nil {
		return
	}
	t.cnLevel = p.Level
	s.send(t.cnPT, false, ts, b)
	t.cnSent++
}

// send builds, protects and sends one RTP packet. The caller holds txMu.
func (s *Session) send(pt uint8, marker bool, ts uint32, payload []byte) {
	t := &s.tx
	if !t.sends {
		return
	}
	b := t.pkt[:headerSize+len(payload)]
	b[0] = 2 << 6 // version 2, no padding, no extension, no CSRC
	b[1] = pt & 0x7F
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], t.seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], s.ssrc)
	copy(b[headerSize:], payload)
	t.seq++
	out := b
	if t.ctx != nil {
		enc, err := t.ctx.EncryptRTP(t.enc[:0], b, &t.hdr)
		if err != nil {
			s.sendError(err)
			return
		}
		out = enc
	}
	if _, err := s.rtp.WriteToUDPAddrPort(out, t.remote); err != nil {
		s.sendError(err)
		return
	}
	if s.cfg.Tap != nil {
		s.cfg.Tap(TapSent, s.local, t.remote, out)
	}
	t.packets++
	t.octets += uint64(len(payload))
	t.lastSent = t.clockWall
	if !t.prevSend.IsZero() && !t.clockWall.Equal(t.prevSend) {
		t.interval.add(t.clockWall.Sub(t.prevSend))
	}
	t.prevSend = t.clockWall
}

// sendError counts a failed send and logs the first and then every
// thousandth.
func (s *Session) sendError(err error) {
	s.tx.errors++
	if s.tx.errors%1000 == 1 {
		s.log.Warn("media send failed", "err", err, "count", s.tx.errors)
	}
}

// SendDigit starts (down) or ends (!down) an RFC 4733 event for digit
// (0-9, *, #, A-D), as the line sees the key go down and up. The events go
// out from the next WriteFrame on, in place of the audio, with the
// stream's SSRC and sequence numbers; the end is sent three times. A press
// while a key is down ends the earlier one. The digit of a release is not
// checked; a release without a press is ErrDigit.
func (s *Session) SendDigit(digit byte, down bool) error {
	s.txMu.Lock()
	defer s.txMu.Unlock()
	t := &s.tx
	switch {
	case s.closed.Load():
		return ErrClosed
	case !t.configured:
		return ErrNotStarted
	case !t.dtmf || t.ev == nil:
		return ErrNoDTMF
	}
	if !down {
		if !t.down {
			return fmt.Errorf("%w: release of %q without press", ErrDigit, digit)
		}
		t.down = false
		if err := t.ev.Release(t.ts); err != nil {
			return fmt.Errorf("%w: %w", ErrDigit, err)
		}
		return nil
	}
	if err := t.ev.Press(digit, t.ts); err != nil {
		return fmt.Errorf("%w: %w", ErrDigit, err)
	}
	t.down = true
	return nil
}
