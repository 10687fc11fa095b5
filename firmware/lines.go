package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
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
// a registration per configured line.
type sipStack struct {
	agent  *ua.Agent
	router *call.Router
	regs   map[int]*ua.Registration // by port
	lines  map[int]*call.Line
	mwi    *mwi.Manager
	subs   map[int]*mwi.Subscription // by port
}

// startSIP starts the agent and registers every line that has an account.
// Without a registrar, or without accounts, there is no SIP stack and the
// ports reach each other only.
func startSIP(ctx context.Context, cfg config.Config, cfgPath string, log *slog.Logger) (*sipStack, error) {
	if cfg.SIP.Registrar == "" || len(cfg.Lines) == 0 {
		return nil, nil
	}
	dir := filepath.Dir(cfgPath)
	clientTLS := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.SIP.CAFile != "" {
		p := cfg.SIP.CAFile
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		pem, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("sip.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("sip.ca_file: %s holds no PEM certificate", p)
		}
		clientTLS.RootCAs = pool
	}
	acfg := ua.AgentConfig{ListenAddr: cfg.SIP.Listen, TLS: clientTLS, Logger: log, UserAgent: "Tipring/" + version}
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
	agent, err := ua.NewAgent(ctx, acfg)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	s := &sipStack{agent: agent, router: call.NewRouter(agent, log), regs: map[int]*ua.Registration{}, lines: map[int]*call.Line{},
		mwi: mwi.NewManager(agent, log), subs: map[int]*mwi.Subscription{}}
	domain := cfg.SIP.Domain
	if domain == "" {
		domain = cfg.SIP.Registrar
		if h, _, err := net.SplitHostPort(domain); err == nil {
			domain = h
		}
	}
	proxy, outbound := cfg.SIP.Registrar, false
	if cfg.SIP.OutboundProxy != "" {
		proxy, outbound = cfg.SIP.OutboundProxy, true
	}
	adv := advertiseAddr(cfg.SIP.Listen, proxy)
	sdpCfg, err := sdpConfig(cfg.SIP)
	if err != nil {
		s.close(ctx)
		return nil, err
	}
	mcfg := media.Config{PortMin: cfg.SIP.RTPPortMin, PortMax: cfg.SIP.RTPPortMax, Symmetric: true, Logger: log}
	if adv.IsValid() && !adv.IsUnspecified() {
		mcfg.Addr = adv
	}
	for _, lc := range cfg.Lines {
		llog := log.With("line", lc.Port, "user", lc.User)
		reg, err := agent.Register(ctx, ua.Account{
			User: lc.User, AuthUser: lc.AuthUser, Password: lc.Password, Domain: domain, DisplayName: lc.DisplayName,
			Registrar: cfg.SIP.Registrar, Backup: cfg.SIP.BackupRegistrar, OutboundProxy: cfg.SIP.OutboundProxy,
			Transport: cfg.SIP.Transport, Expires: time.Duration(cfg.SIP.RegisterExpires) * time.Second,
		})
		if err != nil {
			s.close(ctx)
			return nil, fmt.Errorf("line[port %d]: %w", lc.Port, err)
		}
		s.regs[lc.Port] = reg
		cl, err := s.router.NewLine(call.Config{
			User: lc.User, AuthUser: lc.AuthUser, Password: lc.Password, Domain: domain, DisplayName: lc.DisplayName,
			Proxy: proxy, OutboundProxy: outbound, Transport: cfg.SIP.Transport, Registration: reg,
			SDP: sdpCfg, NewMedia: call.NewRTPMediaFactory(mcfg, adv), CallWaiting: true, Logger: llog,
		})
		if err != nil {
			s.close(ctx)
			return nil, fmt.Errorf("line[port %d]: %w", lc.Port, err)
		}
		s.lines[lc.Port] = cl
		// Message waiting: a subscription when asked for, else the
		// unsolicited NOTIFYs many PBXes send to a registered contact.
		sub, err := s.mwi.Subscribe(ctx, mwi.Config{
			User: lc.User, AuthUser: lc.AuthUser, Password: lc.Password, Domain: domain, DisplayName: lc.DisplayName,
			Proxy: proxy, Transport: cfg.SIP.Transport, UnsolicitedOnly: !cfg.SIP.MWI, Logger: llog,
		})
		if err != nil {
			s.close(ctx)
			return nil, fmt.Errorf("line[port %d]: message waiting: %w", lc.Port, err)
		}
		s.subs[lc.Port] = sub
	}
	return s, nil
}

// watchMWI feeds a line's message-waiting changes to its call control.
func (s *sipStack) watchMWI(port int, l *line.Line) {
	sub := s.subs[port]
	if sub == nil {
		return
	}
	go func() {
		for sum := range sub.Summaries() {
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
	_ = s.router.Close(ctx)
	for _, sub := range s.subs {
		_ = sub.Stop(ctx)
	}
	_ = s.mwi.Close(ctx)
	for _, r := range s.regs {
		_ = r.Stop(ctx)
	}
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
		HowlerAfter: time.Duration(cfg.Region.HowlerAfterS) * time.Second, Features: features(lc)}
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
