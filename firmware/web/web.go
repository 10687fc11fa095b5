// Package web is Tipring's local web page and JSON API: first-visit admin
// password, login sessions, the status page with the simulated phones, the
// settings pages (lines, SIP, region, network: remote syslog and
// provisioning), the call history, maintenance (configuration download and
// upload, HTTPS certificate upload, firmware update, restart, factory
// reset, log), /api/status and /api/update.
//
// Settings forms name their fields after the configuration keys they set.
// A post is applied to a copy of the configuration inside Store.Update and
// validated by the config package; any problem aborts the update, so
// nothing is saved, and the form comes back with the values as typed and
// each message next to its field. Passwords are never sent to the browser.
//
// It is built from the standard library: server-rendered html/template
// pages and plain forms that work without JavaScript, one small script of
// our own that refreshes the status page, no third-party code in the
// browser. Every response carries a Content-Security-Policy that allows
// nothing but this origin's own files; every state-changing form is checked
// for its origin and a double-submitted token; sessions are HttpOnly,
// SameSite=Strict cookies, Secure when served over HTTPS.
package web

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/tipring/tipring/board/sim"
	"github.com/tipring/tipring/dsp"
	"github.com/tipring/tipring/firmware/capture"
	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/firmware/line"
	"github.com/tipring/tipring/firmware/passwd"
	"github.com/tipring/tipring/firmware/provision"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options wire the web page to the rest of the gateway.
type Options struct {
	Store   *config.Store
	Version string
	Board   string
	// BoardError says why the board could not be opened; the gateway then
	// runs without lines and the page shows this instead.
	BoardError string
	Started    time.Time
	Lines      func() []line.Status
	// Calls returns the call log, newest first; nil means none is kept.
	Calls  func() []line.Record
	Phones []*sim.Phone // the simulated board's phones, or nil
	Secure bool         // served over HTTPS: cookies get the Secure flag
	Logger *slog.Logger
	Now    func() time.Time // the clock; time.Now when nil
	// Restart asks the gateway to restart. It should only schedule the
	// restart and return at once (the page answers before it happens); an
	// error is shown to the admin. Nil hides the restart button.
	Restart func() error
	// Logs returns the recent diagnostic log, offered as a download on the
	// maintenance page; it must hold no secrets. Nil hides the download.
	Logs func() []byte
	// Listening returns the addresses the gateway serves on, one entry
	// each ("web https://192.0.2.7:443", "sip udp 0.0.0.0:5060"), for the
	// status page. Nil shows the configured web.listen and sip.listen.
	Listening func() []string
	// Provision returns the state of provisioning, ok false when it is
	// off; ProvisionNow fetches the configuration at once and returns
	// the fetch's error. Nil hides them.
	Provision    func() (st provision.Status, ok bool)
	ProvisionNow func(ctx context.Context) error
	// Capture is the SIP and media packet capture the maintenance page
	// starts and offers for download; nil hides it.
	Capture *capture.Capture
	// CaptureFor is how long one capture runs; default 60 s.
	CaptureFor time.Duration
	// TimeSync tells whether the system clock is synchronised to network
	// time, and how that is known (ClockSynced); nil hides it.
	TimeSync func() (synced bool, how string)
	// WebCert is the HTTPS certificate of the page, which the maintenance
	// page shows and replaces; nil hides it.
	WebCert *WebCert
	// LoginDelay is the wait after the first wrong password, doubling
	// with each further one; default 1 s (tests shorten it).
	LoginDelay time.Duration
	// Update installs firmware updates (the Maintenance page's form,
	// GET and POST /api/update); nil hides them.
	Update Updater
}

// Server serves the web page and API.
type Server struct {
	o        Options
	log      *slog.Logger
	tmpl     *template.Template
	sessions *sessions
	limiter  *limiter
	verifyMu sync.Mutex // serialises password verifications
}

// New returns the web server.
func New(o Options) (*Server, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Lines == nil {
		o.Lines = func() []line.Status { return nil }
	}
	if o.Calls == nil {
		o.Calls = func() []line.Record { return nil }
	}
	if o.CaptureFor <= 0 {
		o.CaptureFor = 60 * time.Second
	}
	t, err := template.New("").Funcs(template.FuncMap{
		"dbm0": func(v float64) string { return fmt.Sprintf("%.0f dBm0", v) },
		"meter": func(v float64) int { // −60…0 dBm0 → 0…100 %
			return int(min(max((v+60)/60*100, 0), 100))
		},
		"navItems": func() any { return navItems },
		"party":    party,
		"jitter":   func(ms float64) string { return strconv.FormatFloat(ms, 'f', 1, 64) + " ms" },
		"utc":      fmtTime,
	}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	return &Server{o: o, log: o.Logger, tmpl: t, sessions: newSessions(o.Now), limiter: newLimiter(o.Now, o.LoginDelay)}, nil
}

// Handler returns the routes of the web page and API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.page(s.statusPage))
	mux.HandleFunc("GET /lines", s.page(s.linesPage))
	mux.HandleFunc("GET /lines/{port}", s.page(s.lineEdit))
	mux.HandleFunc("POST /lines/{port}", s.page(s.lineSave))
	mux.HandleFunc("GET /sip", s.page(s.sipPage))
	mux.HandleFunc("POST /sip", s.page(s.sipSave))
	mux.HandleFunc("GET /region", s.page(s.regionPage))
	mux.HandleFunc("POST /region", s.page(s.regionSave))
	mux.HandleFunc("GET /network", s.page(s.networkPage))
	mux.HandleFunc("POST /network", s.page(s.networkSave))
	mux.HandleFunc("GET /history", s.page(s.historyPage))
	mux.HandleFunc("GET /maintenance", s.page(s.maintPage))
	mux.HandleFunc("POST /maintenance/download", s.page(s.maintDownload))
	mux.HandleFunc("POST /maintenance/upload", s.page(s.maintUpload))
	mux.HandleFunc("POST /maintenance/restart", s.page(s.maintRestart))
	mux.HandleFunc("POST /maintenance/reset", s.page(s.maintReset))
	mux.HandleFunc("GET /maintenance/logs", s.page(s.maintLogs))
	mux.HandleFunc("POST /maintenance/provision", s.page(s.maintProvision))
	mux.HandleFunc("POST /maintenance/capture", s.page(s.maintCapture))
	mux.HandleFunc("POST /maintenance/certificate", s.page(s.maintCert))
	mux.HandleFunc("POST /maintenance/update", s.pageLimit(maxUpdateBody, s.maintUpdate))
	mux.HandleFunc("GET /maintenance/capture.pcap", s.page(s.maintCaptureFile))
	mux.HandleFunc("GET /setup", s.setupForm)
	mux.HandleFunc("POST /setup", s.setup)
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("POST /sim/{port}/hook", s.page(s.simHook))
	mux.HandleFunc("POST /sim/{port}/dial", s.page(s.simDial))
	mux.HandleFunc("GET /ui/state.json", s.page(s.stateJSON))
	mux.HandleFunc("GET /api/status", s.apiStatus)
	mux.HandleFunc("GET /metrics", s.apiAuth(s.metrics))
	mux.HandleFunc("GET /api/calls", s.apiAuth(s.apiCalls))
	mux.HandleFunc("GET /api/update", s.apiAuth(s.apiUpdateStatus))
	mux.HandleFunc("POST /api/update", s.apiAuth(s.apiUpdate))
	return headers(mux)
}

// csp allows this origin's own files and nothing else.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// page wraps a handler that needs a logged-in admin; others are sent to the
// first-visit setup or the login form. State-changing requests are checked
// against cross-site forgery.
func (s *Server) page(h http.HandlerFunc) http.HandlerFunc { return s.pageLimit(maxBody, h) }

// pageLimit is page with another bound on the body of a POST.
func (s *Server) pageLimit(limit int64, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.o.Store.Get().Web.AdminPasswordHash == "" {
			http.Redirect(w, r, "/setup", http.StatusSeeOther)
			return
		}
		c, err := r.Cookie(sessionCookie)
		if err != nil || !s.sessions.valid(c.Value) {
			if r.Method == http.MethodGet && r.URL.Path != "/ui/state.json" {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "log in first", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		if r.Method == http.MethodPost && !checkCSRF(r) {
			http.Error(w, "this form did not come from this gateway's page; reload it and try again", http.StatusForbidden)
			return
		}
		h(w, r)
	}
}

// maxBody bounds the body of a logged-in POST (uploads included).
const maxBody = 1 << 20

// navItems are the pages of the nav bar.
var navItems = []struct{ Path, Name string }{
	{"/", "Status"}, {"/lines", "Lines"}, {"/sip", "SIP"}, {"/region", "Region"}, {"/network", "Network"}, {"/history", "History"}, {"/maintenance", "Maintenance"},
}

// view is what every template gets.
type view struct {
	Title string
	Nav   string // the nav bar's entry for this page
	// Notice reports a success; Error a failure.
	Notice     string
	Form       *form
	Page       any // the page's own data
	Listening  []string
	BoardError string
	CSRF       string
	Error      string
	Version    string
	Board      string
	Uptime     string
	Lines      []line.Status
	Phones     []phoneView
	Authed     bool
	Clock      *clockView
	Provision  *provisionView
	// tmpl is the template a settings form is rendered with when it
	// comes back with problems; empty means form.html.
	tmpl string
}

// clockView is the system clock as the status page shows it.
type clockView struct {
	Now    string
	Synced bool
	How    string
}

// provisionView is the state of provisioning as the pages show it.
type provisionView struct {
	URL, LastAttempt, LastSuccess, NextRun, LastError string
	Changed                                           bool
	Off                                               bool // no provision.url: the Network page says so
}

func (s *Server) clockView() *clockView {
	if s.o.TimeSync == nil {
		return nil
	}
	synced, how := s.o.TimeSync()
	return &clockView{Now: s.o.Now().UTC().Format("2006-01-02 15:04:05 UTC"), Synced: synced, How: how}
}

func (s *Server) provisionView() *provisionView {
	if s.o.Provision == nil {
		return nil
	}
	st, ok := s.o.Provision()
	if !ok {
		return nil
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	v := &provisionView{URL: st.URL, LastAttempt: when(st.LastAttempt), LastSuccess: when(st.LastSuccess),
		NextRun: when(st.NextRun), LastError: st.LastError, Changed: st.Changed}
	if st.NextRun.IsZero() {
		v.NextRun = "soon"
	}
	return v
}

type phoneView struct {
	sim.PhoneState
	Level float64 // dBm0 of the last 200 ms at the earpiece
}

// render writes a page, setting the double-submit CSRF cookie it embeds.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, v view) {
	tok := ""
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		tok = c.Value
	} else {
		tok = randomToken()
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: "/", HttpOnly: true,
			Secure: s.o.Secure, SameSite: http.SameSiteStrictMode})
	}
	v.CSRF = tok
	v.Version = s.o.Version
	if v.Form != nil {
		v.Form.CSRF = tok
	}
	if m, ok := v.Page.(maintView); ok {
		for _, f := range []*form{m.Download, m.Upload, m.Restart, m.Reset, m.ProvisionNow, m.CaptureStart, m.Cert, m.UpdateForm} {
			if f != nil {
				f.CSRF = tok
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if err := s.tmpl.ExecuteTemplate(w, name, v); err != nil {
		s.log.Error("web: render", "page", name, "err", err)
	}
}

func (s *Server) setupForm(w http.ResponseWriter, r *http.Request) {
	if s.o.Store.Get().Web.AdminPasswordHash != "" {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "setup.html", view{Title: "Set the admin password"})
}

func (s *Server) setup(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if !checkCSRF(r) {
		http.Error(w, "this form did not come from this gateway's page; reload it and try again", http.StatusForbidden)
		return
	}
	pw := r.PostFormValue("password")
	if err := checkPassword(pw, r.PostFormValue("confirm")); err != nil {
		s.render(w, r, http.StatusBadRequest, "setup.html", view{Title: "Set the admin password", Error: "Password not set: " + err.Error() + "."})
		return
	}
	hash, err := passwd.Hash(pw)
	if err != nil {
		http.Error(w, "could not hash the password", http.StatusInternalServerError)
		return
	}
	errTaken := errors.New("taken")
	err = s.o.Store.Update(func(c *config.Config) error {
		if c.Web.AdminPasswordHash != "" {
			return errTaken // someone else finished setup first
		}
		c.Web.AdminPasswordHash = hash
		return nil
	})
	if errors.Is(err, errTaken) {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.log.Error("web: saving the admin password", "err", err)
		s.render(w, r, http.StatusInternalServerError, "setup.html", view{Title: "Set the admin password", Error: "The password could not be saved: " + err.Error()})
		return
	}
	s.log.Info("web: admin password set", "client", clientOf(r))
	s.startSession(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) startSession(w http.ResponseWriter) {
	tok, exp := s.sessions.create()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", Expires: exp, MaxAge: int(sessionTTL / time.Second),
		HttpOnly: true, Secure: s.o.Secure, SameSite: http.SameSiteStrictMode})
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if s.o.Store.Get().Web.AdminPasswordHash == "" {
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login.html", view{Title: "Log in"})
}

// checkAdmin verifies the admin password for client, applying the limiter.
// It returns how long the client must wait when it is being slowed down.
func (s *Server) checkAdmin(client, user, pw string) (ok bool, wait time.Duration) {
	if d := s.limiter.wait(client); d > 0 {
		return false, d
	}
	hash := s.o.Store.Get().Web.AdminPasswordHash
	// One Argon2id verification at a time, its 19 MiB handed back to the
	// system afterwards: scripts polling the API with Basic credentials
	// must not stack up memory on a small board.
	s.verifyMu.Lock()
	good, err := passwd.Verify(hash, pw)
	debug.FreeOSMemory()
	s.verifyMu.Unlock()
	if err != nil {
		s.log.Error("web: the stored admin password hash is unreadable", "err", err)
	}
	if good && subtle.ConstantTimeCompare([]byte(user), []byte("admin")) == 1 {
		s.limiter.succeed(client)
		return true, 0
	}
	d := s.limiter.fail(client)
	s.log.Warn("web: failed login", "client", client, "next attempt in", d)
	return false, 0
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if s.o.Store.Get().Web.AdminPasswordHash == "" {
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
		return
	}
	if !checkCSRF(r) {
		http.Error(w, "this form did not come from this gateway's page; reload it and try again", http.StatusForbidden)
		return
	}
	ok, wait := s.checkAdmin(clientOf(r), "admin", r.PostFormValue("password"))
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
		s.render(w, r, http.StatusTooManyRequests, "login.html", view{Title: "Log in",
			Error: fmt.Sprintf("Too many wrong passwords: try again in %d s.", int(wait.Seconds()+0.999))})
		return
	}
	if !ok {
		s.render(w, r, http.StatusUnauthorized, "login.html", view{Title: "Log in", Error: "Wrong password."})
		return
	}
	s.log.Info("web: admin logged in", "client", clientOf(r))
	s.startSession(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if !checkCSRF(r) {
		http.Error(w, "this form did not come from this gateway's page", http.StatusForbidden)
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.remove(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.o.Secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) snapshot() view {
	v := view{Title: "Status", Nav: "Status", Board: s.o.Board, BoardError: s.o.BoardError, Uptime: time.Since(s.o.Started).Round(time.Second).String(), Lines: s.o.Lines(), Authed: true,
		Clock: s.clockView(), Provision: s.provisionView()}
	if s.o.Listening != nil {
		v.Listening = s.o.Listening()
	} else {
		c := s.o.Store.Get()
		v.Listening = []string{"web " + c.Web.Listen, "sip udp/tcp " + c.SIP.Listen}
	}
	for _, p := range s.o.Phones {
		v.Phones = append(v.Phones, phoneView{PhoneState: p.State(), Level: dsp.DBm0FromRMS(dsp.RMS(p.Heard(200)))})
	}
	return v
}

func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) {
	v := s.snapshot()
	v.Error = r.URL.Query().Get("error")
	s.render(w, r, http.StatusOK, "status.html", v)
}

// statusJSON is the body of /api/status and /ui/state.json.
type statusJSON struct {
	Version    string        `json:"version"`
	Board      string        `json:"board"`
	BoardError string        `json:"boardError,omitempty"`
	Uptime     float64       `json:"uptimeSeconds"`
	Lines      []line.Status `json:"lines"`
	Phones     []phoneJSON   `json:"phones,omitempty"`
}

type phoneJSON struct {
	sim.PhoneState
	Level float64 `json:"levelDBm0"`
}

func (s *Server) writeStatus(w http.ResponseWriter, withPhones bool) {
	v := s.snapshot()
	body := statusJSON{Version: s.o.Version, Board: s.o.Board, BoardError: s.o.BoardError, Uptime: time.Since(s.o.Started).Seconds(), Lines: v.Lines}
	if withPhones {
		for _, p := range v.Phones {
			lvl := p.Level
			if lvl < -99 {
				lvl = -99 // JSON has no -Inf
			}
			body.Phones = append(body.Phones, phoneJSON{PhoneState: p.PhoneState, Level: lvl})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

func (s *Server) stateJSON(w http.ResponseWriter, r *http.Request) { s.writeStatus(w, true) }

// apiAuth admits a request with a session cookie or HTTP Basic credentials
// for "admin" (what scripts and Prometheus send), with the same rate limit
// as the login form.
func (s *Server) apiAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.o.Store.Get().Web.AdminPasswordHash == "" {
			http.Error(w, "no admin password is set yet: open the web page to set one", http.StatusForbidden)
			return
		}
		if c, err := r.Cookie(sessionCookie); err == nil && s.sessions.valid(c.Value) {
			h(w, r)
			return
		}
		if user, pw, ok := r.BasicAuth(); ok {
			good, wait := s.checkAdmin(clientOf(r), user, pw)
			if wait > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
				http.Error(w, "too many wrong passwords", http.StatusTooManyRequests)
				return
			}
			if good {
				h(w, r)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="tipring", charset="UTF-8"`)
		http.Error(w, "admin credentials required", http.StatusUnauthorized)
	}
}

func (s *Server) apiStatus(w http.ResponseWriter, r *http.Request) {
	s.apiAuth(func(w http.ResponseWriter, r *http.Request) { s.writeStatus(w, false) })(w, r)
}

// apiCalls returns the call log, newest first: ?limit=N keeps the newest N,
// ?port=N only one line's calls.
func (s *Server) apiCalls(w http.ResponseWriter, r *http.Request) {
	recs := s.o.Calls()
	if v := r.URL.Query().Get("port"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			http.Error(w, "port: not a number", http.StatusBadRequest)
			return
		}
		kept := recs[:0:0]
		for _, rec := range recs {
			if rec.Port == n {
				kept = append(kept, rec)
			}
		}
		recs = kept
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			http.Error(w, "limit: not a count", http.StatusBadRequest)
			return
		}
		recs = recs[:min(n, len(recs))]
	}
	if recs == nil {
		recs = []line.Record{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(struct {
		Calls []line.Record `json:"calls"`
	}{recs})
}

func (s *Server) phone(w http.ResponseWriter, r *http.Request) *sim.Phone {
	n, err := strconv.Atoi(r.PathValue("port"))
	if err != nil || n < 1 || n > len(s.o.Phones) {
		http.Error(w, "no such simulated port", http.StatusNotFound)
		return nil
	}
	return s.o.Phones[n-1]
}

// back returns to the status page, carrying an error message if any.
func back(w http.ResponseWriter, r *http.Request, err error) {
	to := "/"
	if err != nil {
		to = "/?error=" + template.URLQueryEscaper(err.Error())
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (s *Server) simHook(w http.ResponseWriter, r *http.Request) {
	p := s.phone(w, r)
	if p == nil {
		return
	}
	back(w, r, p.HookAction(r.Context(), r.PostFormValue("state")))
}

func (s *Server) simDial(w http.ResponseWriter, r *http.Request) {
	p := s.phone(w, r)
	if p == nil {
		return
	}
	back(w, r, p.Dial(r.Context(), r.PostFormValue("digits"), r.PostFormValue("method") == "pulse"))
}

// party names the other end of a call: name and number, or "anonymous".
func party(c *line.CallStatus) string {
	switch {
	case c == nil:
		return ""
	case c.Name != "" && c.Number != "":
		return c.Name + " · " + c.Number
	case c.Name != "":
		return c.Name
	case c.Number != "":
		return c.Number
	}
	return "anonymous"
}
