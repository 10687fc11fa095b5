package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tipring/tipring/dsp/callerid"
	"github.com/tipring/tipring/dsp/tone"
	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/firmware/line"
	"github.com/tipring/tipring/firmware/line/digitmap"
	"github.com/tipring/tipring/firmware/web"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/sip/call"
	"github.com/tipring/tipring/sip/media"
	"github.com/tipring/tipring/sip/mwi"
	"github.com/tipring/tipring/sip/sdp"
	"github.com/tipring/tipring/sip/ua"
)

// sipStack is the SIP side of the gateway: one agent, its call router, and
// per configured line a registration, a call.Line and a message-waiting
// subscription. Lines can be stopped and started one by one, so that a
// changed account re-registers without disturbing the others.
type sipStack struct {
	agent  *ua.Agent
	router *call.Router
	mwi    *mwi.Manager
	sip    config.SIP // the settings the stack was started with
	caPEM  []byte     // the content of sip.ca_file when it started
	domain string
	proxy  string
	outbnd bool
	adv    netip.Addr
	sdp    sdp.Config
	media  media.Config
	log    *slog.Logger

	mu    sync.Mutex
	lines map[int]*sipLine // by port
}

// sipLine is one account of the stack.
type sipLine struct {
	cfg    config.Line
	reg    *ua.Registration
	line   *call.Line
	sub    *mwi.Subscription
	cancel context.CancelFunc // stops the line's network goroutines
}

// startSIP starts the agent and registers every line that has an account.
// Without a registrar, or without accounts, there is no SIP stack and the
// ports reach each other only.
//
// tap, when not nil, sees every SIP message and RTP/RTCP packet (the
// maintenance page's packet capture).
func startSIP(ctx context.Context, cfg config.Config, cfgPath string, log *slog.Logger, tap func(int, netip.AddrPort, netip.AddrPort, []byte)) (*sipStack, error) {
	if cfg.SIP.Registrar == "" || len(cfg.Lines) == 0 {
		return nil, nil
	}
	dir := filepath.Dir(cfgPath)
	clientTLS := &tls.Config{MinVersion: tls.VersionTLS12}
	var caPEM []byte
	if cfg.SIP.CAFile != "" {
		p := cfgFile(cfgPath, cfg.SIP.CAFile)
		var err error
		if caPEM, err = os.ReadFile(p); err != nil {
			return nil, fmt.Errorf("sip.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, fmt.Errorf("sip.ca_file: %s holds no PEM certificate", p)
		}
		clientTLS.RootCAs = pool
	}
	acfg := ua.AgentConfig{ListenAddr: cfg.SIP.Listen, TLS: clientTLS, Logger: log, UserAgent: "Tipring/" + version, Tap: tap,
		Keepalive: keepalive(cfg.SIP.KeepaliveS)}
	if cfg.SIP.Transport == "tls" {
		// Calls may arrive on a new TLS connection; the agent answers with a
		// certificate of its own, made on first boot like the web page's.
		host, _, _ := net.SplitHostPort(cfg.SIP.Listen)
		var ips []net.IP
		if ip := net.ParseIP(host); ip != nil {
			ips = append(ips, ip)
		}
		cert, err := web.LoadOrCreateCert(filepath.Join(dir, "sip-cert.pem"), filepath.Join(dir, "sip-key.pem"), []string{"tipring"}, ips)
		if err != nil {
			return nil, fmt.Errorf("sip certificate: %w", err)
		}
		acfg.ServerTLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	sdpCfg, err := sdpConfig(cfg.SIP)
	if err != nil {
		return nil, err
	}
	agent, err := ua.NewAgent(ctx, acfg)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	s := &sipStack{agent: agent, router: call.NewRouter(agent, log), mwi: mwi.NewManager(agent, log), sip: cfg.SIP,
		caPEM: caPEM, sdp: sdpCfg, log: log, lines: map[int]*sipLine{}}
	s.sip.Codecs = append([]string(nil), cfg.SIP.Codecs...)
	s.domain = cfg.SIP.Domain
	if s.domain == "" {
		s.domain = cfg.SIP.Registrar
		if h, _, err := net.SplitHostPort(s.domain); err == nil {
			s.domain = h
		}
	}
	s.proxy = cfg.SIP.Registrar
	if cfg.SIP.OutboundProxy != "" {
		s.proxy, s.outbnd = cfg.SIP.OutboundProxy, true
	}
	s.adv = advertiseAddr(cfg.SIP.Listen, s.proxy)
	s.media = media.Config{PortMin: cfg.SIP.RTPPortMin, PortMax: cfg.SIP.RTPPortMax, Symmetric: true, Logger: log, Tap: tap}
	if s.adv.IsValid() && !s.adv.IsUnspecified() {
		s.media.Addr = s.adv
	}
	for _, lc := range cfg.Lines {
		if err := s.startLine(ctx, lc); err != nil {
			s.close(ctx)
			return nil, err
		}
	}
	return s, nil
}

// keepalive is the agent's keep-alive interval for sip.keepalive_s: 0
// turns keep-alives off, which the agent spells as a negative interval.
func keepalive(s int) time.Duration {
	if s == 0 {
		return -1
	}
	return time.Duration(s) * time.Second
}

// cfgFile resolves a file named in the configuration: relative names are
// next to the configuration file.
func cfgFile(cfgPath, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(cfgPath), name)
}

// caChanged tells whether sip.ca_file now holds other certificates than
// when the stack started: an upload of a new CA under the same name.
func (s *sipStack) caChanged(cfgPath string) bool {
	if s == nil || s.sip.CAFile == "" {
		return false
	}
	now, err := os.ReadFile(cfgFile(cfgPath, s.sip.CAFile))
	return err != nil || !bytes.Equal(now, s.caPEM)
}

// startLine registers one account and attaches its calls and mailbox.
func (s *sipStack) startLine(ctx context.Context, lc config.Line) error {
	llog := s.log.With("line", lc.Port, "user", lc.User)
	reg, err := s.agent.Register(ctx, ua.Account{
		User: lc.User, AuthUser: lc.AuthUser, Password: lc.Password, Domain: s.domain, DisplayName: lc.DisplayName,
		Registrar: s.sip.Registrar, Backup: s.sip.BackupRegistrar, OutboundProxy: s.sip.OutboundProxy,
		Transport: s.sip.Transport, Expires: time.Duration(s.sip.RegisterExpires) * time.Second,
	})
	if err != nil {
		return fmt.Errorf("line[port %d]: %w", lc.Port, err)
	}
	sl := &sipLine{cfg: lc, reg: reg}
	sl.line, err = s.router.NewLine(call.Config{
		User: lc.User, AuthUser: lc.AuthUser, Password: lc.Password, Domain: s.domain, DisplayName: lc.DisplayName,
		Proxy: s.proxy, OutboundProxy: s.outbnd, Transport: s.sip.Transport, Registration: reg,
		SDP: s.sdp, NewMedia: call.NewRTPMediaFactory(s.media, s.adv), CallWaiting: true, Logger: llog,
	})
	if err != nil {
		_ = reg.Stop(ctx)
		return fmt.Errorf("line[port %d]: %w", lc.Port, err)
	}
	// Message waiting: a subscription when asked for, else the
	// unsolicited NOTIFYs many PBXes send to a registered contact.
	sl.sub, err = s.mwi.Subscribe(ctx, mwi.Config{
		User: lc.User, AuthUser: lc.AuthUser, Password: lc.Password, Domain: s.domain, DisplayName: lc.DisplayName,
		Proxy: s.proxy, Transport: s.sip.Transport, UnsolicitedOnly: !s.sip.MWI, Logger: llog,
	})
	if err != nil {
		_ = sl.line.Close(ctx)
		_ = reg.Stop(ctx)
		return fmt.Errorf("line[port %d]: message waiting: %w", lc.Port, err)
	}
	s.mu.Lock()
	s.lines[lc.Port] = sl
	s.mu.Unlock()
	return nil
}

// stopLine hangs up, unsubscribes and unregisters one account.
func (s *sipStack) stopLine(ctx context.Context, port int) {
	s.mu.Lock()
	sl := s.lines[port]
	delete(s.lines, port)
	s.mu.Unlock()
	if sl == nil {
		return
	}
	if sl.cancel != nil {
		sl.cancel()
	}
	_ = sl.line.Close(ctx)
	_ = sl.sub.Stop(ctx)
	_ = sl.reg.Stop(ctx)
}

func (s *sipStack) get(port int) *sipLine {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lines[port]
}

// attach gives the port's call control its account: the network it calls
// through, and its message-waiting indication.
func (s *sipStack) attach(ctx context.Context, l *line.Line) {
	sl := s.get(l.Port())
	if sl == nil {
		l.SetNetwork(nil)
		return
	}
	ctx, sl.cancel = context.WithCancel(ctx)
	l.SetNetwork(line.NewSIPNetwork(ctx, sl.line))
	go func() {
		for sum := range sl.sub.Summaries() {
			l.SetMWI(sum.Waiting)
		}
	}()
}

// close hangs up, unregisters and stops the agent.
func (s *sipStack) close(ctx context.Context) {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	s.mu.Lock()
	ports := make([]int, 0, len(s.lines))
	for p := range s.lines {
		ports = append(ports, p)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ports {
		wg.Go(func() { s.stopLine(ctx, p) })
	}
	wg.Wait()
	_ = s.router.Close(ctx)
	_ = s.mwi.Close(ctx)
	_ = s.agent.Close(ctx)
}

// advertiseAddr is the address put in our SDP: the SIP listen address when
// it names one, else the address the host routes to the proxy from.
func advertiseAddr(listen, proxy string) netip.Addr {
	host, _, _ := net.SplitHostPort(listen)
	if a, err := netip.ParseAddr(host); err == nil && !a.IsUnspecified() {
		return a
	}
	target := proxy
	if _, _, err := net.SplitHostPort(target); err != nil {
		target = net.JoinHostPort(target, "5060")
	}
	c, err := net.Dial("udp", target) // sends nothing: only picks the route
	if err != nil {
		return netip.Addr{}
	}
	defer c.Close()
	if ua, ok := c.LocalAddr().(*net.UDPAddr); ok {
		if a, ok := netip.AddrFromSlice(ua.IP); ok {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

func sdpConfig(c config.SIP) (sdp.Config, error) {
	var out sdp.Config
	for _, name := range c.Codecs {
		switch name {
		case "pcmu":
			out.Codecs = append(out.Codecs, sdp.PCMU)
		case "pcma":
			out.Codecs = append(out.Codecs, sdp.PCMA)
		}
	}
	out.Ptime = c.PtimeMS
	switch c.SRTP {
	case "off":
		out.SRTP = sdp.SRTPOff
	case "optional":
		out.SRTP = sdp.SRTPOptional
	case "required":
		out.SRTP = sdp.SRTPRequired
	}
	switch c.DTMF {
	case "inband":
		out.DTMF = sdp.DTMFInband
	case "info":
		out.DTMF = sdp.DTMFInfo
	default:
		out.DTMF = sdp.DTMFRFC4733
	}
	return out, nil
}

// lineConfig builds the call control of one port from the configuration.
func lineConfig(cfg config.Config, port hal.Port, country *tone.Country) (line.Config, error) {
	lc := config.NewLine(port.Number)
	for _, l := range cfg.Lines {
		if l.Port == port.Number {
			lc = l
		}
	}
	lcfg := line.Config{Port: port, Country: country, Extension: lc.Ext(), DisplayName: lc.DisplayName,
		HowlerAfter: time.Duration(cfg.Region.HowlerAfterS) * time.Second, Features: features(lc),
		FaxReinvite: cfg.SIP.FaxReinvite}
	if lcfg.DisplayName == "" {
		lcfg.DisplayName = fmt.Sprintf("Port %d", port.Number)
	}
	m, err := digitmap.Parse(lc.Map())
	if err != nil {
		return lcfg, fmt.Errorf("line %d digit_map: %w", port.Number, err)
	}
	lcfg.DigitMap = m
	if lcfg.DTMF, err = line.ParseDTMFMode(cfg.SIP.DTMF); err != nil {
		return lcfg, err
	}
	std := cfg.Region.CallerID
	if std == "" {
		std = country.CallerID
	}
	switch std {
	case "off", "ntt":
	case "bellcore":
		lcfg.CallerID = callerid.Bellcore
	case "etsi-fsk":
		lcfg.CallerID = callerid.ETSI
	case "etsi-dtmf":
		lcfg.CallerID = callerid.DTMF
	case "bt":
		lcfg.CallerID = callerid.BT
	}
	switch cfg.Region.CallerIDAlert {
	case "ring":
		lcfg.CallerIDOptions.Alert = callerid.AlertRing
	case "rpas":
		lcfg.CallerIDOptions.Alert = callerid.AlertRPAS
	case "dtas":
		lcfg.CallerIDOptions.Alert = callerid.AlertDTAS
	}
	lcfg.CallerIDOptions.PolarityReversal = cfg.Region.CallerIDPolarity
	return lcfg, nil
}

func features(l config.Line) line.Features {
	return line.Features{
		CallerID: l.CallerID, CallWaiting: l.CallWaiting, DND: l.DND, AnonymousReject: l.AnonymousReject,
		ForwardAlways: l.ForwardAlways, ForwardBusy: l.ForwardBusy, ForwardNoAnswer: l.ForwardNoAnswer,
		NoAnswerAfter: time.Duration(l.ForwardNoAnswerS) * time.Second,
		Hotline:       l.Hotline, Warmline: time.Duration(l.WarmlineS) * time.Second,
	}
}

// saveFeatures writes what a feature code changed back to the line's
// configuration, so that the web page shows it and it survives a restart.
func saveFeatures(store *config.Store, port int, f line.Features) error {
	return store.Update(func(c *config.Config) error {
		for i := range c.Lines {
			if c.Lines[i].Port == port {
				l := &c.Lines[i]
				l.CallWaiting, l.DND, l.AnonymousReject = f.CallWaiting, f.DND, f.AnonymousReject
				l.ForwardAlways, l.ForwardBusy, l.ForwardNoAnswer = f.ForwardAlways, f.ForwardBusy, f.ForwardNoAnswer
				return nil
			}
		}
		// A port without an account has no line entry to keep them in:
		// its features last until the gateway restarts.
		return fmt.Errorf("port %d has no [[line]] entry to save its features in", port)
	})
}
