// Package ua is Tipring's SIP user agent: one [Agent] per gateway holds the
// sipgo user agent, its transports and listeners, shared by all lines, and
// each line keeps a [Registration] with its registrar (RFC 3261 §10).
//
// A Registration sends REGISTER over UDP, TCP or TLS, answers digest
// challenges (401 and 407; MD5, SHA-256 and SHA-512/256; qop=auth;
// stale=true), honours 423 Min-Expires and 503 Retry-After, refreshes
// before the binding expires, retries failures with capped exponential
// backoff and jitter, stops for good on 403, 404 and rejected credentials,
// and removes its binding (Expires: 0) when stopped. Its [RegState] is what
// a status page shows.
//
// Over TLS the registrar's certificate is verified against the agent's
// trust anchors (or the system roots), with the registrar's host name or
// IP address as the server name; a client certificate can be presented for
// mutual TLS. TLS 1.2 is the minimum.
package ua

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// defaultRequestTimeout bounds one REGISTER transaction: Timer F, 64·T1.
const defaultRequestTimeout = 32 * time.Second

// AgentConfig configures an [Agent].
type AgentConfig struct {
	// ListenAddr is the host:port the agent listens on for UDP and TCP
	// (e.g. "0.0.0.0:5060"); port 0 picks a free port for both. UDP
	// requests are sent from this socket, so the registrar sees the
	// address it will send calls to. Default "0.0.0.0:5060".
	ListenAddr string
	// TLS is the client TLS configuration: RootCAs are the trust anchors
	// (nil means the system roots), Certificates an optional client
	// certificate for mutual TLS. ServerName is filled per registrar and
	// MinVersion raised to TLS 1.2. Nil means defaults.
	TLS *tls.Config
	// Logger receives the agent's logs; nil discards them.
	Logger *slog.Logger
	// UserAgent is the User-Agent header value. Default "Tipring".
	UserAgent string
	// RequestTimeout bounds one REGISTER transaction. Default 32 s.
	RequestTimeout time.Duration
	// Resolver resolves registrar host names; nil means net.DefaultResolver.
	Resolver *net.Resolver
}

// Agent is the SIP user agent shared by all lines: transports, listeners
// and the sipgo client and server. Its methods are safe for concurrent use.
type Agent struct {
	cfg    AgentConfig
	log    *slog.Logger
	ua     *sipgo.UserAgent
	client *sipgo.Client
	server *sipgo.Server
	udp    net.PacketConn
	tcp    net.Listener
	listen *net.UDPAddr

	wg   sync.WaitGroup
	mu   sync.Mutex
	regs map[*Registration]struct{}
	shut bool
}

// NewAgent starts listening and returns the agent. ctx bounds the start-up
// only; call [Agent.Close] to stop.
func NewAgent(ctx context.Context, cfg AgentConfig) (*Agent, error) {
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "0.0.0.0:5060"
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "Tipring"
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = defaultRequestTimeout
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tlsConf := &tls.Config{}
	if cfg.TLS != nil {
		tlsConf = cfg.TLS.Clone()
	}
	tlsConf.MinVersion = max(tlsConf.MinVersion, tls.VersionTLS12)

	udp, tcp, err := listenPair(ctx, cfg.ListenAddr)
	if err != nil {
		return nil, err
	}
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgenTLSConfig(tlsConf),
		sipgo.WithUserAgentDNSResolver(cfg.Resolver),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log.With("sip", "transport"))),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(log.With("sip", "transaction")),
			// A dead TCP or TLS flow fails its transactions at once.
			sip.WithTransactionLayerTerminateOnConnClose(),
		),
	)
	if err != nil {
		udp.Close()
		tcp.Close()
		return nil, fmt.Errorf("ua: sipgo user agent: %w", err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(log.With("sip", "client")))
	if err != nil {
		ua.Close()
		udp.Close()
		tcp.Close()
		return nil, fmt.Errorf("ua: sipgo client: %w", err)
	}
	server, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log.With("sip", "server")))
	if err != nil {
		ua.Close()
		udp.Close()
		tcp.Close()
		return nil, fmt.Errorf("ua: sipgo server: %w", err)
	}
	server.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	a := &Agent{
		cfg:    cfg,
		log:    log,
		ua:     ua,
		client: client,
		server: server,
		udp:    udp,
		tcp:    tcp,
		listen: udp.LocalAddr().(*net.UDPAddr),
		regs:   make(map[*Registration]struct{}),
	}
	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		_ = server.ServeUDP(udp)
	}()
	go func() {
		defer a.wg.Done()
		_ = server.ServeTCP(tcp)
	}()
	// The client sends UDP from the listening socket, which the transport
	// layer knows once ServeUDP has registered it.
	if err := a.waitUDPReady(ctx); err != nil {
		_ = a.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	log.Info("SIP agent listening", "udp", udp.LocalAddr().String(), "tcp", tcp.Addr().String())
	return a, nil
}

// udpReadyTimeout bounds the wait for the UDP listener to be served.
const udpReadyTimeout = 5 * time.Second

func (a *Agent) waitUDPReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, udpReadyTimeout)
	defer cancel()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := a.ua.TransportLayer().GetConnection("udp", a.udp.LocalAddr().String()); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ua: UDP listener %s not served: %w", a.udp.LocalAddr(), ctx.Err())
		case <-tick.C:
		}
	}
}

// listenPair opens UDP and TCP listeners on the same address; with port 0
// it looks for a port free for both.
func listenPair(ctx context.Context, addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: listen address %q: %w", ErrInvalidConfig, addr, err)
	}
	var lc net.ListenConfig
	for range 20 {
		tcp, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, nil, fmt.Errorf("ua: listen tcp %s: %w", addr, err)
		}
		p := strconv.Itoa(tcp.Addr().(*net.TCPAddr).Port)
		udp, err := lc.ListenPacket(ctx, "udp", net.JoinHostPort(host, p))
		if err == nil {
			return udp, tcp, nil
		}
		tcp.Close()
		if port != "0" {
			return nil, nil, fmt.Errorf("ua: listen udp %s: %w", addr, err)
		}
	}
	return nil, nil, fmt.Errorf("ua: no port free for both UDP and TCP on %s", host)
}

// LocalAddr returns the UDP listening address (TCP listens on the same).
func (a *Agent) LocalAddr() *net.UDPAddr { return a.listen }

// UA returns the underlying sipgo user agent, for the call layer.
func (a *Agent) UA() *sipgo.UserAgent { return a.ua }

// Client returns the sipgo client the agent sends requests with.
func (a *Agent) Client() *sipgo.Client { return a.client }

// Server returns the sipgo server receiving requests on the listeners;
// register handlers on it before calls arrive. OPTIONS is answered.
func (a *Agent) Server() *sipgo.Server { return a.server }

// Close stops every registration (un-registering within ctx), then closes
// listeners and transports.
func (a *Agent) Close(ctx context.Context) error {
	a.mu.Lock()
	if a.shut {
		a.mu.Unlock()
		return nil
	}
	a.shut = true
	regs := make([]*Registration, 0, len(a.regs))
	for r := range a.regs {
		regs = append(regs, r)
	}
	a.mu.Unlock()

	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, r := range regs {
		wg.Go(func() {
			if err := r.Stop(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, c := range []interface{ Close() error }{a.udp, a.tcp, a.ua} {
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("ua: close: %w", err))
		}
	}
	a.wg.Wait()
	return errors.Join(errs...)
}

func (a *Agent) forget(r *Registration) {
	a.mu.Lock()
	delete(a.regs, r)
	a.mu.Unlock()
}
