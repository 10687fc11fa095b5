package media

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/srtp/v3"

	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/dsp/cng"
	"github.com/tipring/tipring/dsp/dtmf/rfc4733"
	"github.com/tipring/tipring/dsp/g711"
	"github.com/tipring/tipring/dsp/plc"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/sip/media/jitter"
	"github.com/tipring/tipring/sip/sdp"
)

// maxDatagram is the largest packet the session sends or reads.
const maxDatagram = 1500

// replayWindow is the SRTP and SRTCP replay window of receiving contexts
// (RFC 3711 §3.3.2 asks for at least 64).
const replayWindow = 256

// Session is the media of one call leg. WriteFrame, ReadFrame and
// SendDigit are meant for the line's media loop; Apply, Stats and Close
// may be called from any goroutine.
type Session struct {
	cfg   Config
	log   *slog.Logger
	rtp   *net.UDPConn
	rtcp  *net.UDPConn // nil when MuxOnly
	local netip.AddrPort
	lrtcp netip.AddrPort
	ssrc  uint32
	cname string
	epoch time.Time

	ctx       context.Context
	cancel    context.CancelFunc
	stopAfter func() bool
	wg        sync.WaitGroup
	closed    atomic.Bool
	closeOnce sync.Once

	digits chan Digit

	txMu sync.Mutex
	tx   sendState

	rxMu sync.Mutex
	rx   recvState

	// The playout side, owned by jbMu: the jitter buffer, the G.711
	// Appendix I concealment every frame passes through, and the comfort
	// noise generator with the state of the peer's silence.
	jbMu      sync.Mutex
	jb        *jitter.Buffer
	plc       *plc.Concealer
	cng       *cng.Generator
	cnOn      bool   // the peer is silent: a CN packet came after its audio
	cnTS      uint32 // timestamp of the CN packet that began the silence
	cnPlaying bool   // the last frame played was comfort noise
	concealed uint64 // frames replaced by the concealment
	comfort   uint64 // frames of comfort noise played

	// Dropped packets by reason; atomics so that the earliest checks
	// need no lock.
	dropMalformed, dropPayload, dropAuth, dropSequence, dropLoop atomic.Uint64
	reportsSent                                                  atomic.Uint64
}

// Listen binds the session's sockets and starts receiving. The session
// drops what arrives until Apply configures it. It ends with Close or when
// ctx is done.
func Listen(ctx context.Context, cfg Config) (*Session, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	jb, err := jitter.New(cfg.Jitter)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	rtpConn, rtcpConn, err := bind(cfg)
	if err != nil {
		return nil, err
	}
	var rnd [14]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		rtpConn.Close()
		if rtcpConn != nil {
			rtcpConn.Close()
		}
		return nil, fmt.Errorf("media: random: %w", err)
	}
	s := &Session{
		cfg:    cfg,
		rtp:    rtpConn,
		rtcp:   rtcpConn,
		local:  addrPortOf(rtpConn),
		ssrc:   binary.BigEndian.Uint32(rnd[0:4]) | 1, // never 0
		cname:  cfg.CNAME,
		epoch:  time.Now(),
		digits: make(chan Digit, cfg.DigitQueue),
		jb:     jb,
		plc:    plc.New(),
		cng:    cng.NewGenerator(binary.BigEndian.Uint64(rnd[2:10])),
	}
	if rtcpConn != nil {
		s.lrtcp = addrPortOf(rtcpConn)
	} else {
		s.lrtcp = s.local
	}
	if s.cname == "" {
		s.cname = fmt.Sprintf("%x", rnd[10:14]) + "@tipring"
	}
	// RFC 3550 §5.1: the initial sequence number and timestamp are
	// random, to make known-plaintext attacks on encryption harder.
	s.tx.seq = binary.BigEndian.Uint16(rnd[4:6])
	s.tx.ts = binary.BigEndian.Uint32(rnd[6:10])
	s.tx.marker = true
	s.tx.evBuf = make([]rfc4733.Packet, 0, 16)
	if cfg.VAD {
		rms := dsp.ZeroDBm0RMS * math.Pow(10, cfg.VADThreshold/20)
		s.tx.vadEnergy = max(int64(rms*rms*hal.FrameSamples), 1)
		s.tx.hangFrames = int((cfg.VADHangover + hal.FrameDuration - 1) / hal.FrameDuration)
	}
	s.tx.cnEnc, _ = cng.NewEncoder(cng.DefaultOrder)
	s.rx.ev = rfc4733.NewReceiver(rfc4733.ReceiverConfig{})
	s.rx.notes = make([]rfc4733.Notice, 0, 8)
	s.log = cfg.Logger.With("rtp", s.local.String(), "ssrc", fmt.Sprintf("%08x", s.ssrc))

	s.ctx, s.cancel = context.WithCancel(ctx)
	s.stopAfter = context.AfterFunc(s.ctx, func() { s.Close() })
	s.wg.Add(2)
	go s.readLoop(s.rtp, false)
	go s.rtcpLoop()
	if s.rtcp != nil {
		s.wg.Add(1)
		go s.readLoop(s.rtcp, true)
	}
	s.log.Debug("media session listening", "rtcp", s.lrtcp.String())
	return s, nil
}

func addrPortOf(c *net.UDPConn) netip.AddrPort {
	ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// bind picks a random even port from the range and binds it and, unless
// MuxOnly, the next one, with a bounded number of attempts.
func bind(cfg Config) (rtpConn, rtcpConn *net.UDPConn, err error) {
	lo := (cfg.PortMin + 1) &^ 1
	hi := cfg.PortMax
	if !cfg.MuxOnly {
		hi--
	}
	if hi < lo {
		return nil, nil, fmt.Errorf("%w: port range %d-%d holds no even port pair", ErrConfig, cfg.PortMin, cfg.PortMax)
	}
	network := "udp4"
	if cfg.Addr.Is6() && !cfg.Addr.Is4In6() {
		network = "udp6"
	}
	choices := (hi-lo)/2 + 1
	var last error
	for range cfg.BindAttempts {
		port := lo + 2*mrand.IntN(choices)
		a, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(cfg.Addr, uint16(port))))
		if err != nil {
			last = err
			continue
		}
		if cfg.MuxOnly {
			return a, nil, nil
		}
		b, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(cfg.Addr, uint16(port+1))))
		if err != nil {
			a.Close()
			last = err
			continue
		}
		return a, b, nil
	}
	return nil, nil, fmt.Errorf("%w: %d attempts in %d-%d: %w", ErrNoPort, cfg.BindAttempts, cfg.PortMin, cfg.PortMax, last)
}

// LocalRTP is the address the session receives RTP on, for the SDP.
func (s *Session) LocalRTP() netip.AddrPort { return s.local }

// LocalRTCP is the address the session receives RTCP on: the next port, or
// the RTP port itself with Config.MuxOnly.
func (s *Session) LocalRTCP() netip.AddrPort { return s.lrtcp }

// SSRC is the session's own synchronisation source identifier.
func (s *Session) SSRC() uint32 { return s.ssrc }

// Digits delivers the key presses received as RFC 4733 events: a Begin
// and an End for each, exactly once. It is closed by Close. If the
// channel is full, notices are dropped and logged.
func (s *Session) Digits() <-chan Digit { return s.digits }

// Apply configures the session from a negotiation result, the first time
// to start the media and then for every re-negotiation. The SSRC, the
// sequence numbers and the timestamps continue across calls; the SRTP
// contexts are kept when the keys did not change (sdp.Result.SameSRTP) and
// rebuilt otherwise.
func (s *Session) Apply(res *sdp.Result) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if res == nil {
		return fmt.Errorf("%w: nil", ErrResult)
	}
	law, err := g711.LawFromPayloadType(int(res.Codec))
	if err != nil {
		return fmt.Errorf("%w: codec %s: %w", ErrResult, res.Codec.Name(), err)
	}
	ptime := res.Ptime
	if ptime == 0 {
		ptime = 20
	}
	if ptime != 10 && ptime != 20 && ptime != 30 {
		return fmt.Errorf("%w: ptime %d ms, want 10, 20 or 30", ErrResult, ptime)
	}
	if (res.LocalCrypto == nil) != (res.RemoteCrypto == nil) {
		return fmt.Errorf("%w: SRTP keys for one direction only", ErrResult)
	}
	copyRes := *res

	s.txMu.Lock()
	keep := res.LocalCrypto != nil && s.tx.prev != nil && res.SameSRTP(s.tx.prev)
	s.txMu.Unlock()
	var txCtx, rxCtx *srtp.Context
	if res.LocalCrypto != nil && !keep {
		if txCtx, err = res.LocalCrypto.NewContext(); err != nil {
			return fmt.Errorf("%w: local key: %w", ErrCrypto, err)
		}
		if rxCtx, err = res.RemoteCrypto.NewContext(srtp.SRTPReplayProtection(replayWindow), srtp.SRTCPReplayProtection(replayWindow)); err != nil {
			return fmt.Errorf("%w: remote key: %w", ErrCrypto, err)
		}
	}

	s.txMu.Lock()
	err = s.tx.apply(&copyRes, law, ptime, keep, txCtx)
	s.txMu.Unlock()
	if err != nil {
		return err
	}
	s.rxMu.Lock()
	s.rx.apply(&copyRes, keep, rxCtx)
	s.rxMu.Unlock()
	s.log.Info("media configured", "codec", res.Codec.Name(), "ptime", ptime, "remote", res.Remote.String(),
		"direction", res.Direction.String(), "srtp", res.LocalCrypto != nil, "rtcpMux", res.RTCPMux)
	return nil
}

// usable reports whether a can be sent to.
func usable(a netip.AddrPort) bool {
	return a.IsValid() && a.Port() != 0 && !a.Addr().IsUnspecified()
}

// Close sends an RTCP BYE, stops the session's goroutines and closes its
// sockets and the Digits channel. It is safe to call more than once.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.sendReport(time.Now(), true)
		s.cancel()
		s.rtp.Close()
		if s.rtcp != nil {
			s.rtcp.Close()
		}
		s.wg.Wait()
		s.stopAfter()
		close(s.digits)
		s.log.Debug("media session closed")
	})
	return nil
}

// readLoop reads one socket until it is closed. The buffer is reused for
// every packet.
func (s *Session) readLoop(c *net.UDPConn, isRTCP bool) {
	defer s.wg.Done()
	buf := make([]byte, maxDatagram)
	local := s.local
	if isRTCP {
		local = s.lrtcp
	}
	for {
		n, from, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.ctx.Err() != nil {
				return
			}
			s.log.Debug("media read", "err", err)
			// Errors that repeat (ICMP reports on some systems) must
			// not spin the loop.
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if s.cfg.Tap != nil {
			s.cfg.Tap(TapReceived, local, from, buf[:n])
		}
		if isRTCP {
			s.handleRTCP(buf[:n], from, time.Now())
		} else {
			s.handleRTP(buf[:n], from, time.Now())
		}
	}
}

// ConcealmentDelay is the delay the packet loss concealment adds to the
// received audio (G.711 Appendix I, package plc): 30 samples, 3.75 ms,
// on top of the jitter buffer's depth.
const ConcealmentDelay = plc.Delay * time.Second / sdp.ClockRate

// SetPassThrough switches the session to voiceband data (a fax or modem
// call in G.711, ITU-T V.152): the jitter buffer's delay stops adapting,
// and silence suppression stops, so that every frame is sent as it is.
func (s *Session) SetPassThrough(on bool) {
	s.jbMu.Lock()
	s.jb.SetFixed(on)
	s.jbMu.Unlock()
	s.txMu.Lock()
	s.tx.passThrough = on
	s.txMu.Unlock()
}

// ReadFrame fills f with the next 20 ms of received audio. It does not
// block on the network. A frame that did not arrive in time is concealed
// after G.711 Appendix I (package plc); while the peer is silent and has
// sent comfort noise (RFC 3389), it is comfort noise at the level the
// peer described; before anything arrived it is silence. All of it comes
// ConcealmentDelay late.
func (s *Session) ReadFrame(f *hal.Frame) error {
	if s.closed.Load() {
		*f = hal.Frame{}
		return ErrClosed
	}
	pcm := (*[hal.FrameSamples]int16)(f)
	s.jbMu.Lock()
	missing, playing := s.jb.ReadMissing(pcm)
	whole := missing == hal.FrameSamples
	switch {
	case whole && (s.cnOn || s.cnPlaying && !playing):
		// The peer's silence, or the lead-in of its next talkspurt.
		s.cng.Generate(pcm)
		s.comfort++
		s.cnPlaying = true
		s.plc.Good(pcm)
	case whole && playing:
		s.cnPlaying = false
		s.plc.Lost(pcm)
		s.concealed++
	default:
		// Received audio (gaps in a partly missing frame are filled by
		// the buffer), or silence before the stream.
		s.cnPlaying = false
		s.plc.Good(pcm)
	}
	s.jbMu.Unlock()
	return nil
}
