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
// Registrars are located as RFC 3263 says (SRV records for a bare domain,
// else A/AAAA), and the next target is tried when one fails. A line may
// have a backup registrar it fails over to and moves back from, and an
// outbound proxy (RFC 3261 §8.1.2). Via carries rport (RFC 3581), and when
// the registrar sees the line behind a NAT the public address it reports
// becomes the Contact. TCP and TLS flows are the agent's own, kept alive
// with RFC 5626 CRLF keep-alives; a line re-registers as soon as its flow
// fails.
//
// Over TLS the registrar's certificate is verified against the agent's
// trust anchors (or the system roots), with the registrar's host name or
// IP address as the server name (the SIP domain when the address came from
// SRV, RFC 5922); a client certificate can be presented for mutual TLS.
// With a certificate of its own the agent also listens for TLS, on the
// port after its UDP and TCP port. TLS 1.2 is the minimum.
//
// Requests the agent receives go to the handlers registered with
// [Agent.Handle] (per method) and [Agent.HandleEvent] (NOTIFY and
// SUBSCRIBE per event package, RFC 6665), which may be added or removed
// at any time; the agent answers OPTIONS itself and other requests
// nobody handles with 405. A registered line's bound Contact, with the
// public address learnt from rport/received, is in its [RegState].
package ua

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
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
	// RequestTimeout bounds one REGISTER transaction, and the connection
	// and TLS handshake of a flow. Default 32 s.
	RequestTimeout time.Duration
	// Resolver locates registrars (SRV, A and AAAA records); nil means
	// net.DefaultResolver.
	Resolver Resolver
	// Keepalive is the interval of RFC 5626 CRLF keep-alives on TCP and
	// TLS flows; each ping goes out at a random 80–100 % of it. Default
	// 30 s; negative turns keep-alives off.
	Keepalive time.Duration
	// PongTimeout is how long a ping waits for its pong (or any data)
	// before the flow is declared failed. Default 10 s (RFC 5626 §4.4.1).
	PongTimeout time.Duration
	// ServerTLS, when it holds a certificate (Certificates or
	// GetCertificate), makes the agent listen for TLS on the port after
	// ListenAddr's, presenting that certificate; ClientAuth and ClientCAs
	// can demand and verify callers' certificates. TLS Contacts then name
	// that port. Nil means no TLS listener.
	ServerTLS *tls.Config
	// Tap, when set, sees every SIP message the agent sends or receives,
	// as on the wire but after TLS: each UDP datagram, and each chunk
	// read from or written to a TCP or TLS connection. dir is TapReceived
	// or TapSent. It must return quickly and copy pkt, which is reused.
	// It is for packet captures (firmware/capture).
	Tap func(dir int, local, remote netip.AddrPort, pkt []byte)
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
	tlsLn  net.Listener // nil without ServerTLS
	listen *net.UDPAddr
	tlsLis *net.TCPAddr // the TLS listener's address, or nil

	tlsConf  *tls.Config // client side
	dispatch *dispatcher
	rnd      func() float64
	flows    flowTable
	tcpFlows *flowListener
	tlsFlows *flowListener

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
	if cfg.Keepalive == 0 {
		cfg.Keepalive = defaultKeepalive
	}
	if cfg.PongTimeout <= 0 {
		cfg.PongTimeout = defaultPongTimeout
	}
	dnsResolver, ok := cfg.Resolver.(*net.Resolver)
	if !ok {
		// sipgo resolves nothing of ours: the agent hands it addresses.
		dnsResolver = net.DefaultResolver
	}
	var serverTLS *tls.Config
	if cfg.ServerTLS != nil {
		if len(cfg.ServerTLS.Certificates) == 0 && cfg.ServerTLS.GetCertificate == nil && cfg.ServerTLS.GetConfigForClient == nil {
			return nil, fmt.Errorf("%w: ServerTLS has no certificate", ErrInvalidConfig)
		}
		serverTLS = cfg.ServerTLS.Clone()
		serverTLS.MinVersion = max(serverTLS.MinVersion, tls.VersionTLS12)
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

	udp, tcp, tlsRaw, err := listenSet(ctx, cfg.ListenAddr, serverTLS != nil)
	if err != nil {
		return nil, err
	}
	closeListeners := func() {
		udp.Close()
		tcp.Close()
		if tlsRaw != nil {
			tlsRaw.Close()
		}
	}
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgenTLSConfig(tlsConf),
		sipgo.WithUserAgentDNSResolver(dnsResolver),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log.With("sip", "transport"))),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(log.With("sip", "transaction")),
			// A dead TCP or TLS flow fails its transactions at once.
			sip.WithTransactionLayerTerminateOnConnClose(),
		),
	)
	if err != nil {
		closeListeners()
		return nil, fmt.Errorf("ua: sipgo user agent: %w", err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(log.With("sip", "client")))
	if err != nil {
		ua.Close()
		closeListeners()
		return nil, fmt.Errorf("ua: sipgo client: %w", err)
	}
	server, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log.With("sip", "server")))
	if err != nil {
		ua.Close()
		closeListeners()
		return nil, fmt.Errorf("ua: sipgo server: %w", err)
	}
	a := &Agent{
		cfg:      cfg,
		log:      log,
		ua:       ua,
		client:   client,
		server:   server,
		udp:      udp,
		tcp:      tcp,
		listen:   udp.LocalAddr().(*net.UDPAddr),
		tlsConf:  tlsConf,
		rnd:      mrand.Float64,
		flows:    flowTable{flows: make(map[flowKey]*flow), dialing: make(map[flowKey]*dialCall)},
		tcpFlows: newFlowListener(tcp.Addr()),
		tlsFlows: newFlowListener(tcp.Addr()),
		regs:     make(map[*Registration]struct{}),
		dispatch: newDispatcher(),
	}
	// sipgo reads its handler table without a lock: it is filled here,
	// once, before any listener is served, and the agent's own locked
	// table (Handle, HandleEvent) decides from then on.
	for _, m := range dispatchedMethods {
		server.OnRequest(m, a.serve)
	}
	server.OnNoRoute(a.serve)
	var servedUDP net.PacketConn = udp
	var servedTCP net.Listener = tcp
	if cfg.Tap != nil {
		servedUDP = &tapPacketConn{PacketConn: udp, tap: cfg.Tap, local: addrPort(udp.LocalAddr())}
		servedTCP = &tapListener{Listener: tcp, tap: cfg.Tap}
	}
	a.wg.Go(func() { _ = server.ServeUDP(servedUDP) })
	a.wg.Go(func() { _ = server.ServeTCP(servedTCP) })
	a.wg.Go(func() { _ = server.ServeTCP(a.tcpFlows) })
	a.wg.Go(func() { _ = server.ServeTLS(a.tlsFlows) })
	if tlsRaw != nil {
		a.tlsLis = tlsRaw.Addr().(*net.TCPAddr)
		a.tlsLn = tls.NewListener(tlsRaw, serverTLS)
		var servedTLS net.Listener = a.tlsLn
		if cfg.Tap != nil {
			servedTLS = &tapListener{Listener: a.tlsLn, tap: cfg.Tap}
		}
		a.wg.Go(func() { _ = server.ServeTLS(servedTLS) })
	}
	// The client sends UDP from the listening socket, which the transport
	// layer knows once ServeUDP has registered it.
	if err := a.waitUDPReady(ctx); err != nil {
		_ = a.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	if a.tlsLis != nil {
		log.Info("SIP agent listening", "udp", udp.LocalAddr().String(), "tcp", tcp.Addr().String(), "tls", a.tlsLis.String())
	} else {
		log.Info("SIP agent listening", "udp", udp.LocalAddr().String(), "tcp", tcp.Addr().String())
	}
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

// listenSet opens UDP and TCP listeners on the same address and, with
// withTLS, a TCP listener for TLS on the next port; with port 0 it looks
// for ports free for all of them.
func listenSet(ctx context.Context, addr string, withTLS bool) (net.PacketConn, net.Listener, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: listen address %q: %w", ErrInvalidConfig, addr, err)
	}
	var lc net.ListenConfig
	for range 20 {
		tcp, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("ua: listen tcp %s: %w", addr, err)
		}
		n := tcp.Addr().(*net.TCPAddr).Port
		udp, err := lc.ListenPacket(ctx, "udp", net.JoinHostPort(host, strconv.Itoa(n)))
		if err == nil && !withTLS {
			return udp, tcp, nil, nil
		}
		var tl net.Listener
		if err == nil {
			if n < 65535 {
				tl, err = lc.Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(n+1)))
			} else {
				err = fmt.Errorf("no port after %d", n)
			}
			if err == nil {
				return udp, tcp, tl, nil
			}
			udp.Close()
		}
		tcp.Close()
		if port != "0" {
			return nil, nil, nil, fmt.Errorf("ua: listen %s: %w", addr, err)
		}
	}
	return nil, nil, nil, fmt.Errorf("ua: no ports free for UDP, TCP and TLS on %s", host)
}

// LocalAddr returns the UDP listening address (TCP listens on the same).
func (a *Agent) LocalAddr() *net.UDPAddr { return a.listen }

// TLSAddr returns the TLS listening address, or nil without ServerTLS.
func (a *Agent) TLSAddr() *net.TCPAddr { return a.tlsLis }

// UA returns the underlying sipgo user agent, for the call layer.
func (a *Agent) UA() *sipgo.UserAgent { return a.ua }

// Client returns the sipgo client the agent sends requests with.
func (a *Agent) Client() *sipgo.Client { return a.client }

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
	a.closeFlows()
	closers := []interface{ Close() error }{a.udp, a.tcp, a.tcpFlows, a.tlsFlows}
	if a.tlsLn != nil {
		closers = append(closers, a.tlsLn)
	}
	for _, c := range append(closers, a.ua) {
		// A peer that has gone already is no failure to close.
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
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
