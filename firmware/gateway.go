package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tipring/tipring/board"
	"github.com/tipring/tipring/board/sim"
	"github.com/tipring/tipring/board/watchdog"
	"github.com/tipring/tipring/dsp/tone"
	"github.com/tipring/tipring/firmware/capture"
	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/firmware/line"
	"github.com/tipring/tipring/firmware/provision"
	"github.com/tipring/tipring/firmware/simapi"
	"github.com/tipring/tipring/firmware/syslog"
	"github.com/tipring/tipring/firmware/web"
	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/hal/hook"
)

// webLoginDelay, when set, replaces the web page's 1 s wait after a first
// wrong password (which doubles with each further one): tests shorten it.
var webLoginDelay time.Duration

// gateway is a running Tipring: the board, one call control per port, and
// the web listener.
type gateway struct {
	store   *config.Store
	log     *slog.Logger
	secure  bool // the web listener is HTTPS
	started time.Time

	board    board.Board // nil when it failed to open
	boardErr error
	lines    []*line.Line
	history  *line.History
	wd       *watchdog.Watchdog // nil without a hardware watchdog
	ring     *logRing
	cfgPath  string
	lineCtx  context.Context

	sipMu  sync.Mutex
	sip    *sipStack // nil without a registrar or accounts
	sipErr error     // why the SIP stack did not start

	// applied is the configuration the running gateway follows; apply
	// brings it to the store's after each save.
	applied config.Config
	applyCh chan struct{}
	restart chan struct{}

	ln  net.Listener
	srv *http.Server
	// webCert is the page's HTTPS certificate (web-cert.pem and
	// web-key.pem next to the configuration), replaceable while serving.
	webCert *web.WebCert

	// capture records SIP and media packets for the maintenance page;
	// its Tap is in every SIP agent and media session from the start.
	capture *capture.Capture
	// tee carries the log to the remote syslog server, if any.
	tee *syslog.Tee
	// upd stages firmware updates; after one, the gateway stops with
	// update.ExitRestart rather than restarting in place.
	upd *updater

	provMu     sync.Mutex
	prov       *provision.Fetcher // nil without provision.url
	provErr    error              // why provisioning could not start
	provCancel context.CancelFunc
	provWG     sync.WaitGroup
	provCA     []byte // provision.ca_file's content when the fetcher started

	wg          sync.WaitGroup // the web server
	lineWG      sync.WaitGroup // the lines
	cancelLines context.CancelFunc
	errMu       sync.Mutex
	err         error
}

func start(ctx context.Context, cfg config.Config, cfgPath string, log *slog.Logger, ring *logRing, tee *syslog.Tee, upd updateEnv) (*gateway, error) {
	country, err := tone.Lookup(cfg.Region.Country)
	if err != nil {
		return nil, fmt.Errorf("%s: region.country: %w", cfgPath, err)
	}
	g := &gateway{store: config.NewStore(cfgPath, cfg), log: log, started: time.Now(), ring: ring, cfgPath: cfgPath,
		applied: cfg, applyCh: make(chan struct{}, 1), restart: make(chan struct{}, 1),
		capture: capture.New(0, 0), tee: tee,
		webCert: web.NewWebCert(filepath.Join(filepath.Dir(cfgPath), "web-cert.pem"), filepath.Join(filepath.Dir(cfgPath), "web-key.pem"))}
	g.upd = &updater{env: upd, store: g.store, log: log, restart: func() { g.askRestart() }, cfgPath: cfgPath}
	g.applySyslog(cfg)
	if !slices.Contains(board.Names(), cfg.Board.Name) {
		return nil, fmt.Errorf("%s: board.name: board %q is unknown; known boards: %s", cfgPath, cfg.Board.Name, strings.Join(board.Names(), ", "))
	}
	timing := hook.DefaultTiming
	timing.FlashMin = time.Duration(cfg.Region.FlashMinMS) * time.Millisecond
	timing.FlashMax = time.Duration(cfg.Region.FlashMaxMS) * time.Millisecond
	g.board, err = board.Open(ctx, cfg.Board.Name, board.Options{Ports: cfg.Board.Ports, Logger: log, Hook: timing,
		Playout: time.Duration(cfg.Board.PlayoutMS) * time.Millisecond})
	if err != nil {
		if cfg.Board.Name == "sim" {
			return nil, err // the simulated board failing is a bug, not a state
		}
		// A real board whose chips do not answer is a state the owner must
		// see: the gateway keeps its web page up, without lines, and says
		// why, rather than exiting in a restart loop or pretending.
		g.boardErr = err
		log.Error("board failed: the gateway runs without lines; see the status page", "board", cfg.Board.Name, "err", err)
	}
	g.ln, err = net.Listen("tcp", cfg.Web.Listen)
	if err != nil {
		g.closeBoard()
		return nil, fmt.Errorf("web listener: %w", err)
	}
	// The lines stop before the board closes, so that no line ever reads a
	// closed PCM stream during an orderly shutdown.
	lineCtx, cancelLines := context.WithCancel(context.WithoutCancel(ctx))
	g.cancelLines, g.lineCtx = cancelLines, lineCtx
	var ports []hal.Port
	if g.board != nil {
		ports = g.board.Ports()
	}
	if w := cfg.Board.Watchdog; g.board != nil && w != "off" && (w != "" || cfg.Board.Name != "sim") {
		if w == "" {
			w = watchdog.DefaultPath
		}
		g.wd, err = watchdog.Open(lineCtx, watchdog.Config{Path: w, Logger: log})
		switch {
		case errors.Is(err, watchdog.ErrNotPresent):
			log.Info("no hardware watchdog", "device", w)
		case err != nil:
			log.Warn("hardware watchdog not fed", "device", w, "err", err)
		default:
			log.Info("hardware watchdog armed", "device", w)
		}
	}
	g.history, err = line.NewHistory(filepath.Join(filepath.Dir(cfgPath), "calls.jsonl"), 0)
	if err != nil {
		log.Warn("call history not kept on disk", "err", err)
		g.history, _ = line.NewHistory("", 0)
	}
	if len(ports) > 0 {
		g.sip, err = startSIP(lineCtx, cfg, cfgPath, log, g.capture.Tap)
		if err != nil {
			// Like a board that does not answer, a SIP setup that cannot
			// start leaves the page up to say why; the ports still reach
			// each other.
			g.sipErr = err
			log.Error("SIP failed: the lines run without their accounts; see the status page", "err", err)
		}
	}
	exchange := line.NewExchange()
	for _, p := range ports {
		lcfg, err := lineConfig(cfg, p, country)
		if err != nil {
			g.abort()
			return nil, fmt.Errorf("%s: %w", cfgPath, err)
		}
		lcfg.Exchange, lcfg.History, lcfg.Logger = exchange, g.history, log
		if g.wd != nil {
			lcfg.Liveness = func(name string, limit time.Duration) line.Check { return g.wd.Register(name, limit) }
		}
		port := p.Number
		lcfg.OnFeatures = func(f line.Features) {
			if err := saveFeatures(g.store, port, f); err != nil {
				log.Info("feature change not saved", "line", port, "err", err)
			}
		}
		l, err := line.New(lcfg)
		if err != nil {
			g.abort()
			return nil, err
		}
		g.lines = append(g.lines, l)
		g.sip.attach(lineCtx, l)
		g.lineWG.Add(1)
		go func() {
			defer g.lineWG.Done()
			if err := l.Run(lineCtx); err != nil && !errors.Is(err, context.Canceled) {
				g.fail(err)
			}
		}()
	}
	g.store.OnChange(func(_, _ config.Config) {
		select {
		case g.applyCh <- struct{}{}:
		default: // one pending round applies every change so far
		}
	})
	g.lineWG.Add(1)
	go func() {
		defer g.lineWG.Done()
		for {
			select {
			case <-lineCtx.Done():
				return
			case <-g.applyCh:
				g.apply(lineCtx)
			}
		}
	}()
	g.startProvision(lineCtx, cfg)
	if !isLoopback(g.ln.Addr()) {
		// Off the loopback interface the page is HTTPS only.
		if err := g.serveTLS(); err != nil {
			g.abort()
			return nil, err
		}
	}
	handler, err := g.routes()
	if err != nil {
		g.abort()
		return nil, err
	}
	g.srv = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := g.srv.Serve(g.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.fail(fmt.Errorf("web: %w", err))
		}
	}()
	scheme := "http://"
	if g.secure {
		scheme = "https://"
	}
	log.Info("tipring up", "version", version, "board", cfg.Board.Name, "ports", len(g.lines),
		"web", scheme+g.ln.Addr().String(), "country", country.Code)
	return g, nil
}

// abort undoes a start that failed after the lines began.
func (g *gateway) abort() {
	g.ln.Close()
	g.cancelLines()
	g.lineWG.Wait()
	g.stopProvision()
	g.stack().close(context.Background())
	if g.wd != nil {
		g.wd.Close()
	}
	g.closeBoard()
}

func (g *gateway) closeBoard() error {
	if g.board == nil {
		return nil
	}
	return g.board.Close()
}

func (g *gateway) fail(err error) {
	g.errMu.Lock()
	defer g.errMu.Unlock()
	if g.err == nil {
		g.err = err
		g.reportFailure(err)
	}
}

// wait runs until ctx ends or a restart is asked for, then shuts
// everything down in order: the web listener, the lines, the board. It
// reports whether to start again.
func (g *gateway) wait(ctx context.Context) (restart bool, _ error) {
	select {
	case <-ctx.Done():
	case <-g.restart:
		restart = true
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	g.srv.Shutdown(shut)
	g.wg.Wait()
	g.cancelLines()
	g.lineWG.Wait()
	g.stopProvision()
	g.stack().close(context.Background())
	if g.wd != nil {
		// An orderly stop disarms the timer; after a stall it stays
		// armed and the board resets.
		if err := g.wd.Close(); err != nil {
			g.log.Error("watchdog", "err", err)
		}
	}
	err := g.closeBoard()
	g.errMu.Lock()
	defer g.errMu.Unlock()
	if g.err != nil {
		return restart, g.err
	}
	return restart, err
}

// addr is the web listener's address.
func (g *gateway) addr() string { return g.ln.Addr().String() }

func (g *gateway) routes() (http.Handler, error) {
	var phones []*sim.Phone
	mux := http.NewServeMux()
	if sb, ok := g.board.(*sim.Board); ok && isLoopback(g.ln.Addr()) {
		phones = sb.Phones()
		mux.Handle("/api/sim/", simapi.Handler(sb, g.log))
	}
	var boardErr string
	if g.boardErr != nil {
		boardErr = g.boardErr.Error()
	}
	ws, err := web.New(web.Options{
		Store:      g.store,
		Version:    version,
		Board:      g.store.Get().Board.Name,
		BoardError: boardErr,
		Started:    g.started,
		Lines:      g.lineStatus,
		Calls:      g.history.List,
		Restart:    g.askRestart,
		Logs:       g.ring.Bytes,
		Listening:  g.listening,
		Phones:     phones,
		Secure:     g.secure,
		Logger:     g.log,
		Provision:  g.provisionStatus,
		ProvisionNow: func(ctx context.Context) error {
			f := g.fetcher()
			if f == nil {
				return errors.New("provisioning is off: set provision.url")
			}
			return f.Fetch(ctx)
		},
		Capture:    g.capture,
		TimeSync:   web.ClockSynced,
		WebCert:    g.webCert,
		LoginDelay: webLoginDelay,
		Update:     g.upd,
	})
	if err != nil {
		return nil, err
	}
	mux.Handle("/", ws.Handler())
	return mux, nil
}

func (g *gateway) lineStatus() []line.Status {
	g.sipMu.Lock()
	stack, sipErr := g.sip, g.sipErr
	g.sipMu.Unlock()
	accounts := map[int]bool{}
	for _, lc := range g.store.Get().Lines {
		accounts[lc.Port] = true
	}
	out := make([]line.Status, len(g.lines))
	for i, l := range g.lines {
		out[i] = l.Status()
		if sipErr != nil && accounts[l.Port()] {
			out[i].Registration, out[i].RegistrationError = "failed", sipErr.Error()
		}
		if sl := stack.get(l.Port()); sl != nil {
			st := sl.reg.State()
			out[i].Registration = st.Status.String()
			if st.Err != nil {
				out[i].RegistrationError = st.Err.Error()
			}
		}
	}
	return out
}

func (g *gateway) stack() *sipStack {
	g.sipMu.Lock()
	defer g.sipMu.Unlock()
	return g.sip
}

// askRestart asks wait to restart the gateway; it returns at once.
func (g *gateway) askRestart() error {
	select {
	case g.restart <- struct{}{}:
	default:
	}
	return nil
}

// listening lists the addresses the gateway answers on.
func (g *gateway) listening() []string {
	scheme := "http://"
	if g.secure {
		scheme = "https://"
	}
	out := []string{"web " + scheme + g.ln.Addr().String()}
	if s := g.stack(); s != nil {
		out = append(out, "sip udp+tcp "+s.agent.LocalAddr().String())
		if a := s.agent.TLSAddr(); a != nil {
			out = append(out, "sip tls "+a.String())
		}
	}
	return out
}

// apply brings the running gateway to the saved configuration without a
// restart: every line takes its new settings and features; only the
// accounts that changed re-register, and the whole SIP stack restarts
// only when the [sip] settings changed. The board, the web listener and
// the SIP listen address need a restart, which the page offers.
func (g *gateway) apply(ctx context.Context) {
	cur := g.store.Get()
	old := g.applied
	g.applied = cur
	country, err := tone.Lookup(cur.Region.Country)
	if err != nil {
		g.log.Error("apply: region.country", "err", err)
		return
	}
	for _, l := range g.lines {
		lcfg, err := lineConfig(cur, hal.Port{Number: l.Port()}, country)
		if err != nil {
			g.log.Error("apply", "line", l.Port(), "err", err)
			continue
		}
		l.Reconfigure(lcfg)
	}
	if old.Board != cur.Board || old.Web.Listen != cur.Web.Listen || old.SIP.Listen != cur.SIP.Listen ||
		old.Region.FlashMinMS != cur.Region.FlashMinMS || old.Region.FlashMaxMS != cur.Region.FlashMaxMS {
		g.log.Info("apply: the board, the flash timing and the listen addresses change at the next restart")
	}
	if old.Syslog != cur.Syslog {
		g.applySyslog(cur)
	}
	if old.Provision != cur.Provision || g.provisionCAChanged(cur) {
		g.stopProvision()
		g.startProvision(ctx, cur)
	}
	if len(g.lines) == 0 {
		return
	}
	account := func(c config.Config, port int) (config.Line, bool) {
		for _, l := range c.Lines {
			if l.Port == port {
				return l, true
			}
		}
		return config.Line{}, false
	}
	same := func(a, b config.Line) bool {
		return a.User == b.User && a.AuthUser == b.AuthUser && a.Password == b.Password && a.DisplayName == b.DisplayName
	}
	stack := g.stack()
	g.sipMu.Lock()
	failed := g.sipErr != nil
	g.sipMu.Unlock()
	if stack == nil && !failed && sipSame(old.SIP, cur.SIP) && (cur.SIP.Registrar == "" || len(cur.Lines) == 0) {
		return // still nothing to register
	}
	if stack == nil || !sipSame(old.SIP, cur.SIP) || stack.caChanged(g.cfgPath) {
		stack.close(ctx)
		next, err := startSIP(ctx, cur, g.cfgPath, g.log, g.capture.Tap)
		if err != nil {
			g.log.Error("apply: SIP failed: the lines run without their accounts", "err", err)
		} else {
			g.log.Info("apply: SIP restarted")
		}
		g.sipMu.Lock()
		g.sip, g.sipErr = next, err
		g.sipMu.Unlock()
		for _, l := range g.lines {
			next.attach(ctx, l)
		}
		return
	}
	for _, l := range g.lines {
		o, had := account(old, l.Port())
		n, has := account(cur, l.Port())
		if had == has && (!has || same(o, n)) {
			continue
		}
		if had {
			stack.stopLine(ctx, l.Port())
		}
		if has {
			if err := stack.startLine(ctx, n); err != nil {
				g.log.Error("apply: line", "line", l.Port(), "err", err)
			} else {
				g.log.Info("apply: line re-registered", "line", l.Port(), "user", n.User)
			}
		}
		stack.attach(ctx, l)
	}
}

// sipSame tells whether two [sip] settings start the same stack.
func sipSame(a, b config.SIP) bool {
	return slices.Equal(a.Codecs, b.Codecs) && a.Listen == b.Listen && a.Registrar == b.Registrar &&
		a.BackupRegistrar == b.BackupRegistrar && a.OutboundProxy == b.OutboundProxy && a.Domain == b.Domain &&
		a.Transport == b.Transport && a.CAFile == b.CAFile && a.SRTP == b.SRTP && a.DTMF == b.DTMF &&
		a.PtimeMS == b.PtimeMS && a.RTPPortMin == b.RTPPortMin && a.RTPPortMax == b.RTPPortMax &&
		a.RegisterExpires == b.RegisterExpires && a.MWI == b.MWI && a.KeepaliveS == b.KeepaliveS
}

func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	return ok && ip.Unmap().IsLoopback()
}

// serveTLS wraps the listener in TLS with the certificate kept next to the
// configuration file, made on first boot.
func (g *gateway) serveTLS() error {
	host, _ := os.Hostname()
	var names []string
	if host != "" {
		names = append(names, host, host+".local")
	}
	var ips []net.IP
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				ips = append(ips, n.IP)
			}
		}
	}
	if err := g.webCert.Load(names, ips); err != nil {
		if _, cerr := g.webCert.GetCertificate(nil); cerr != nil {
			return err
		}
		g.log.Error("web certificate: upload a good one on the maintenance page", "err", err)
	}
	// Every handshake asks for the certificate in use, so that one
	// uploaded on the maintenance page serves the next connection.
	g.ln = tls.NewListener(g.ln, &tls.Config{GetCertificate: g.webCert.GetCertificate, MinVersion: tls.VersionTLS12})
	g.secure = true
	return nil
}

// applySyslog points the log's remote copy at c's [syslog] server, or
// stops it.
func (g *gateway) applySyslog(c config.Config) {
	if g.tee == nil {
		return
	}
	var next *syslog.Sender
	if c.Syslog.Server != "" {
		var level slog.Level
		_ = level.UnmarshalText([]byte(c.Syslog.Level))
		var err error
		next, err = syslog.New(syslog.Config{Server: c.Syslog.Server, Transport: c.Syslog.Transport, Level: level})
		if err != nil {
			g.log.Error("syslog", "err", err)
		}
	}
	if old := g.tee.SetSender(next); old != nil {
		old.Close()
	}
	if next != nil {
		g.log.Info("remote syslog on", "server", c.Syslog.Server, "transport", c.Syslog.Transport, "level", c.Syslog.Level)
	}
}

// startProvision starts fetching the configuration when c asks for it.
// An address the gateway cannot use is shown on the pages.
func (g *gateway) startProvision(ctx context.Context, c config.Config) {
	p := c.Provision
	if p.URL == "" {
		return
	}
	pc := provision.Config{URL: p.URL, Interval: time.Duration(p.IntervalMin) * time.Minute, Store: g.store,
		MAC: os.Getenv("TIPRING_PROVISION_MAC"), Logger: g.log}
	var err error
	var pem []byte
	if p.CAFile != "" {
		path := cfgFile(g.cfgPath, p.CAFile)
		if pem, err = os.ReadFile(path); err == nil {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				err = fmt.Errorf("%s holds no PEM certificate", path)
			}
			pc.RootCAs = pool
		}
		if err != nil {
			err = fmt.Errorf("provision.ca_file: %w", err)
		}
	}
	if err == nil && p.SignatureKey != "" {
		key, _ := base64.StdEncoding.DecodeString(p.SignatureKey) // validated by config
		pc.SignatureKey = ed25519.PublicKey(key)
	}
	var f *provision.Fetcher
	if err == nil {
		f, err = provision.New(pc)
	}
	g.provMu.Lock()
	defer g.provMu.Unlock()
	g.prov, g.provErr, g.provCA = f, err, pem
	if err != nil {
		g.log.Error("provisioning off", "err", err)
		return
	}
	pctx, cancel := context.WithCancel(ctx)
	g.provCancel = cancel
	g.provWG.Go(func() { f.Run(pctx) })
}

// provisionCAChanged tells whether provision.ca_file holds other
// certificates than when the fetcher started: a new CA uploaded under the
// same name.
func (g *gateway) provisionCAChanged(c config.Config) bool {
	if c.Provision.URL == "" || c.Provision.CAFile == "" {
		return false
	}
	now, _ := os.ReadFile(cfgFile(g.cfgPath, c.Provision.CAFile))
	g.provMu.Lock()
	defer g.provMu.Unlock()
	return !bytes.Equal(now, g.provCA)
}

// stopProvision stops the fetcher, if any, and waits for it.
func (g *gateway) stopProvision() {
	g.provMu.Lock()
	cancel := g.provCancel
	g.prov, g.provErr, g.provCancel, g.provCA = nil, nil, nil, nil
	g.provMu.Unlock()
	if cancel != nil {
		cancel()
	}
	g.provWG.Wait()
}

func (g *gateway) fetcher() *provision.Fetcher {
	g.provMu.Lock()
	defer g.provMu.Unlock()
	return g.prov
}

// provisionStatus is what the pages show of provisioning; ok is false
// when it is off.
func (g *gateway) provisionStatus() (st provision.Status, ok bool) {
	g.provMu.Lock()
	f, err := g.prov, g.provErr
	g.provMu.Unlock()
	switch {
	case err != nil:
		return provision.Status{LastError: err.Error()}, true
	case f == nil:
		return provision.Status{}, false
	}
	return f.Status(), true
}
