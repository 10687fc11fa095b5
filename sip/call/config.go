package call

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/tipring/tipring/sip/internal/hostport"
	"github.com/tipring/tipring/sip/sdp"
	"github.com/tipring/tipring/sip/ua"
)

// Media is the RTP side of one call, owned by the call from creation to
// Close. Its methods are called from the call's goroutines, one at a time.
type Media interface {
	// LocalAddr is the address our RTP socket is bound to; it goes into
	// our session descriptions.
	LocalAddr() netip.AddrPort
	// Start begins sending and receiving as the first completed offer/
	// answer exchange says: on early media (183 with SDP) or answer.
	Start(res *sdp.Result) error
	// Update applies a later exchange: hold, resume, a new address or
	// codec. res.SameSRTP tells whether SRTP contexts must be kept.
	Update(res *sdp.Result) error
	// Close stops the media for good.
	Close() error
}

// MediaFactory makes the Media of a new call; ctx bounds its creation.
type MediaFactory func(ctx context.Context) (Media, error)

// Defaults of a Config.
const (
	defaultSessionExpires = 1800 * time.Second
	// minMinSE is the smallest Min-SE RFC 4028 §4 allows.
	minMinSE     = 90 * time.Second
	defaultT1    = 500 * time.Millisecond
	defaultT2    = 4 * time.Second
	defaultTimer = 32 * time.Second // 64·T1
)

// Config configures a [Line].
type Config struct {
	// User is the line's user: the user part of its address of record
	// sip:User@Domain, of its Contact, and the Request-URI user incoming
	// calls are routed by.
	User string
	// AuthUser is the digest user name; default User.
	AuthUser string
	// Password is the digest password. It is never logged.
	Password string
	// Domain is the address-of-record domain; numbers dialed without a
	// domain are called at it.
	Domain string
	// DisplayName goes into From.
	DisplayName string
	// Proxy is where requests outside a dialog (INVITE, and REFER-made
	// calls) are sent, host:port; default Domain at the transport's
	// default port. With OutboundProxy set, requests carry a pre-loaded
	// Route naming it (RFC 3261 §8.1.2).
	Proxy string
	// OutboundProxy marks Proxy as an outbound proxy that every request
	// of the line's dialogs is routed through.
	OutboundProxy bool
	// Transport is "udp", "tcp" or "tls"; default "tls".
	Transport string
	// Registration is the line's registration, if any. While it is
	// registered, the address it bound (the public one when the
	// registrar saw the line behind a NAT, RFC 3581) goes into the
	// Contact of our requests and responses on its transport, so that
	// the far end reaches the line where the registrar does.
	Registration *ua.Registration
	// SDP holds the media preferences for the offer/answer exchanges.
	SDP sdp.Config
	// NewMedia makes the media of each call. Required.
	NewMedia MediaFactory
	// SessionExpires is the session interval asked for and granted (RFC
	// 4028); default 1800 s, negative turns session timers off.
	SessionExpires time.Duration
	// MinSE is the smallest session interval accepted; default and
	// minimum 90 s.
	MinSE time.Duration
	// Reliable18x makes incoming calls ring with a reliable 180 (RFC
	// 3262) when the caller supports 100rel; it always does when the
	// caller requires it.
	Reliable18x bool
	// CallWaiting lets a second incoming call in while one is up (the
	// phone hears a call-waiting tone); without it a busy line answers
	// 486 Busy Here.
	CallWaiting bool
	// T1 is the round-trip estimate for the retransmission of 2xx and
	// reliable provisional responses (RFC 3261 §13.3.1.4, RFC 3262 §3);
	// default 500 ms. The ACK and PRACK waits are 64·T1.
	T1 time.Duration
	// RequestTimeout bounds requests inside dialogs; default 32 s.
	RequestTimeout time.Duration
	// Logger receives the line's logs; nil discards them.
	Logger *slog.Logger

	// minSEFloor replaces the RFC 4028 floor of 90 s for MinSE; only
	// this package's tests set it, to keep session-timer tests short.
	minSEFloor time.Duration
}

func (cfg *Config) normalize() error {
	if err := hostport.CheckAOR(cfg.User, cfg.Domain); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if cfg.NewMedia == nil {
		return fmt.Errorf("%w: NewMedia is required", ErrInvalidConfig)
	}
	if cfg.AuthUser == "" {
		cfg.AuthUser = cfg.User
	}
	t, err := hostport.Transport(cfg.Transport)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	cfg.Transport = t
	if cfg.Proxy == "" {
		cfg.Proxy = cfg.Domain
	}
	proxy, err := hostport.Complete(cfg.Proxy, cfg.Transport)
	if err != nil {
		return fmt.Errorf("%w: proxy: %w", ErrInvalidConfig, err)
	}
	cfg.Proxy = proxy
	if cfg.SessionExpires == 0 {
		cfg.SessionExpires = defaultSessionExpires
	}
	floor := minMinSE
	if cfg.minSEFloor > 0 {
		floor = cfg.minSEFloor
	}
	cfg.MinSE = max(cfg.MinSE, floor).Truncate(time.Second)
	if cfg.SessionExpires > 0 {
		cfg.SessionExpires = min(max(cfg.SessionExpires, cfg.MinSE), maxSessionExpires).Truncate(time.Second)
	}
	if cfg.T1 <= 0 {
		cfg.T1 = defaultT1
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = defaultTimer
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
