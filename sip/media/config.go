package media

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/tipring/tipring/sip/media/jitter"
)

// Defaults of Config.
const (
	// DefaultPortMin and DefaultPortMax bound the media ports.
	DefaultPortMin = 16384
	DefaultPortMax = 32767
	// DefaultBindAttempts is how many random port pairs Listen tries.
	DefaultBindAttempts = 32
	// DefaultRTCPInterval is the mean time between RTCP reports: the
	// RFC 3550 §6.2 minimum for a two-party session.
	DefaultRTCPInterval = 5 * time.Second
	// DefaultDigitQueue is the capacity of the Digits channel.
	DefaultDigitQueue = 16
	// DefaultVADThreshold is the level, in dBm0, under which a frame
	// counts as silence for Config.VAD.
	DefaultVADThreshold = -55.0
	// DefaultVADHangover is how long the level must stay under the
	// threshold before a silence begins.
	DefaultVADHangover = 200 * time.Millisecond
	// CNInterval is how often a comfort noise packet is repeated during a
	// silence; one goes at once when the noise level moves by CNLevelStep.
	CNInterval = time.Second
	// CNLevelStep is the change of the noise level, in dB, that sends a
	// comfort noise update before CNInterval is up.
	CNLevelStep = 3
)

// Config sets up a Session. The zero value binds the IPv4 wildcard address
// in the default port range with separate RTCP, no symmetric RTP, and a
// 20-200 ms jitter buffer.
type Config struct {
	// Addr is the local address to bind; the zero value means 0.0.0.0.
	Addr netip.Addr
	// PortMin and PortMax bound the RTP port (even) and the RTCP port
	// (RTP+1). Zero means the defaults.
	PortMin, PortMax int
	// BindAttempts is how many random even ports are tried before Listen
	// gives up with ErrNoPort. Zero means DefaultBindAttempts.
	BindAttempts int
	// MuxOnly binds a single socket for RTP and RTCP: use it when RTCP
	// multiplexing (RFC 5761) is required by policy. Without it both
	// ports are bound and a negotiated rtcp-mux is honoured as well.
	MuxOnly bool
	// Symmetric enables symmetric RTP (RFC 4961): once packets arrive,
	// media and reports go back to the address they came from rather
	// than to the address in the SDP, which is what gets audio through
	// a NAT in front of the peer.
	Symmetric bool
	// RTCPInterval is the mean report interval; each interval is drawn
	// from 0.5 to 1.5 times it. Zero means DefaultRTCPInterval.
	RTCPInterval time.Duration
	// CNAME is the RTCP canonical name (RFC 3550 §6.5.1). Empty means a
	// random one, which RFC 7022 recommends for privacy.
	CNAME string
	// Jitter sets the jitter buffer.
	Jitter jitter.Config
	// DigitQueue is the capacity of the Digits channel. Zero means
	// DefaultDigitQueue.
	DigitQueue int
	// VAD enables silence suppression (discontinuous transmission) when
	// comfort noise (RFC 3389, sdp.Result.ComfortNoise) was negotiated:
	// once the level of the frames handed to WriteFrame has stayed under
	// VADThreshold for VADHangover, no audio is sent; a CN packet
	// describing the background noise goes out at the start of the
	// silence and then every CNInterval, or sooner when the level moves
	// by CNLevelStep dB (RFC 3389 §4). The first audio packet after a
	// silence carries the marker bit (RFC 3551 §4.1). Off, or without CN,
	// every frame is sent.
	VAD bool
	// VADThreshold is the silence level in dBm0; zero means
	// DefaultVADThreshold.
	VADThreshold float64
	// VADHangover is how long quiet frames are still sent after speech;
	// zero means DefaultVADHangover. It is rounded up to whole frames.
	VADHangover time.Duration
	// Logger receives the session's log; nil discards it.
	Logger *slog.Logger
	// Tap, when set, sees every RTP and RTCP datagram the session sends
	// or receives, as on the wire (SRTP and SRTCP still encrypted): dir
	// is TapReceived or TapSent, local and remote the socket's and the
	// peer's addresses. It runs on the media path, so it must return
	// quickly, must not allocate, and must copy pkt, which is reused once
	// it returns. It is for packet captures (firmware/capture).
	Tap func(dir int, local, remote netip.AddrPort, pkt []byte)
}

// The directions a Config.Tap is called with.
const (
	TapReceived = 0
	TapSent     = 1
)

func (c Config) withDefaults() (Config, error) {
	if !c.Addr.IsValid() {
		c.Addr = netip.IPv4Unspecified()
	}
	if c.PortMin == 0 {
		c.PortMin = DefaultPortMin
	}
	if c.PortMax == 0 {
		c.PortMax = DefaultPortMax
	}
	if c.BindAttempts == 0 {
		c.BindAttempts = DefaultBindAttempts
	}
	if c.RTCPInterval == 0 {
		c.RTCPInterval = DefaultRTCPInterval
	}
	if c.DigitQueue == 0 {
		c.DigitQueue = DefaultDigitQueue
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.VADThreshold == 0 {
		c.VADThreshold = DefaultVADThreshold
	}
	if c.VADHangover == 0 {
		c.VADHangover = DefaultVADHangover
	}
	switch {
	case c.PortMin < 1024 || c.PortMax > 65535 || c.PortMax-c.PortMin < 1:
		return c, fmt.Errorf("%w: port range %d-%d", ErrConfig, c.PortMin, c.PortMax)
	case c.BindAttempts < 0 || c.DigitQueue < 0:
		return c, fmt.Errorf("%w: negative count", ErrConfig)
	case c.RTCPInterval < 0:
		return c, fmt.Errorf("%w: RTCP interval %v", ErrConfig, c.RTCPInterval)
	case c.VADHangover < 0 || !(c.VADThreshold <= 0 && c.VADThreshold >= -90):
		return c, fmt.Errorf("%w: VAD threshold %v dBm0, hangover %v", ErrConfig, c.VADThreshold, c.VADHangover)
	}
	return c, nil
}
