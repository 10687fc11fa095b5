package mwi

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/tipring/tipring/sip/internal/hostport"
	"github.com/tipring/tipring/sip/internal/retry"
)

// Defaults of a Config, and the timing of refreshes and retries.
//
// A subscription granted for g is refreshed after max(g/2, g−5 min), but
// no later than g−5 s when g exceeds 10 s — the schedule package ua uses
// for registrations. After the n-th consecutive failure the next attempt
// waits a random time between half and all of min(RetryMax,
// RetryBase·2^(n−1)); a Retry-After (header or retry-after parameter)
// replaces that wait, capped at maxRetryAfter.
const (
	defaultExpires        = time.Hour
	defaultRetryBase      = retry.DefaultBase
	defaultRetryMax       = retry.DefaultMax
	defaultRequestTimeout = 32 * time.Second // Timer F, 64·T1
	maxRetryAfter         = time.Hour
	// unsubscribeTimeout bounds the un-SUBSCRIBE when a subscription's
	// context ends without Stop.
	unsubscribeTimeout = 5 * time.Second
	// maxRounds bounds the requests of one attempt: challenges and 423.
	maxRounds = 6
)

// Config is one line's mailbox subscription: its SIP identity, modelled
// on ua.Account, and where SUBSCRIBEs go.
type Config struct {
	// User is the user part of the address of record sip:User@Domain
	// that is subscribed to, and the Request-URI user unsolicited
	// NOTIFYs for this line are routed by.
	User string
	// AuthUser is the digest user name; default User.
	AuthUser string
	// Password is the digest password. It is never logged.
	Password string
	// Domain is the address-of-record domain.
	Domain string
	// DisplayName goes into From and To.
	DisplayName string
	// Proxy is where SUBSCRIBEs outside the dialog are sent, host:port;
	// default Domain at the transport's default port (5061 for TLS,
	// 5060 otherwise). It is usually the registrar.
	Proxy string
	// Transport is "udp", "tcp" or "tls"; default "tls".
	Transport string
	// Expires is the subscription lifetime asked for; default one hour.
	// The notifier may grant less, or demand more with 423.
	Expires time.Duration
	// RetryBase and RetryMax shape the backoff after failures (defaults
	// 30 s and 30 min).
	RetryBase, RetryMax time.Duration
	// RequestTimeout bounds one SUBSCRIBE transaction; default 32 s.
	RequestTimeout time.Duration
	// UnsolicitedOnly sends no SUBSCRIBE: the line only takes the
	// unsolicited NOTIFYs its PBX sends to the registered contact.
	UnsolicitedOnly bool
	// Logger receives the subscription's logs; nil discards them.
	Logger *slog.Logger
}

func (cfg *Config) normalize() error {
	if err := hostport.CheckAOR(cfg.User, cfg.Domain); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
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
	if cfg.Expires <= 0 {
		cfg.Expires = defaultExpires
	}
	cfg.Expires = max(cfg.Expires.Truncate(time.Second), time.Second)
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = defaultRetryBase
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = defaultRetryMax
	}
	cfg.RetryMax = max(cfg.RetryMax, cfg.RetryBase)
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	return nil
}
