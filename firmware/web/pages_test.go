package web

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/firmware/line"
	"github.com/tipring/tipring/firmware/passwd"
)

// The secrets of the pages harness: none may appear in a page.
const (
	pagesAdminPW = "green-Valley-77"
	lineSecret1  = "line-secret-one"
	lineSecret3  = "line-secret-three"
)

var (
	pagesHashOnce sync.Once
	pagesHash     string
)

// pages is a logged-in browser on a gateway with lines on ports 1 and 3 of
// 4, whose configuration file is on disk. Every body it receives is kept
// for the check that no secret is ever sent.
type pages struct {
	*harness
	changes []config.Config // new configurations announced by OnChange
	bodies  []string
	mu      sync.Mutex
}

func newPages(t *testing.T, edit func(*Options)) *pages {
	t.Helper()
	pagesHashOnce.Do(func() {
		h, err := passwd.Hash(pagesAdminPW)
		if err != nil {
			panic(err)
		}
		pagesHash = h
	})
	cfg := config.Default()
	cfg.Web.AdminPasswordHash = pagesHash
	cfg.Board.Ports = 4
	l1 := config.NewLine(1)
	l1.User, l1.Password, l1.DisplayName = "1001", lineSecret1, "Kitchen"
	l3 := config.NewLine(3)
	l3.User, l3.Password = "1003", lineSecret3
	cfg.Lines = []config.Line{l1, l3}
	path := filepath.Join(t.TempDir(), "tipring.toml")
	if err := config.Save(path, cfg); err != nil {
		t.Fatal(err)
	}
	store := config.NewStore(path, cfg)
	p := &pages{}
	store.OnChange(func(_, n config.Config) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.changes = append(p.changes, n)
	})
	clock := &fakeClock{t: time.Now()}
	o := Options{Store: store, Version: "1.2.3-test", Board: "sim", Started: time.Now().Add(-time.Hour), Now: clock.now,
		Lines: func() []line.Status {
			return []line.Status{
				{Port: 1, Hook: "off", State: "connected", Registration: "registered",
					Call: &line.CallStatus{Direction: "in", Number: "5551234", Name: "Alice", State: "connected", Codec: "PCMU", JitterMS: 2.5, Lost: 3}},
				{Port: 2, Hook: "on", State: "idle"},
				{Port: 3, Hook: "on", State: "idle", Registration: "failed", RegistrationError: "401 Unauthorized"},
				{Port: 4, Hook: "on", State: "idle"},
			}
		}}
	if edit != nil {
		edit(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	p.harness = &harness{t: t, srv: srv, store: store, clock: clock, c: c}
	_, _, tok := p.harness.get("/login")
	if resp, _ := p.harness.post("/login", url.Values{"csrf": {tok}, "password": {pagesAdminPW}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %s", resp.Status)
	}
	t.Cleanup(p.checkNoSecrets)
	return p
}

func (p *pages) keep(body string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bodies = append(p.bodies, body)
}

// checkNoSecrets greps every body received for the passwords and the hash.
func (p *pages) checkNoSecrets() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.bodies {
		for _, s := range []string{lineSecret1, lineSecret3, "new-line-secret", pagesHash, pagesAdminPW, "$argon2id$"} {
			if strings.Contains(b, s) {
				p.t.Errorf("a response holds the secret %q:\n%.300s", s, b)
			}
		}
	}
}

func (p *pages) get(path string) (*http.Response, string, string) {
	p.t.Helper()
	resp, body, tok := p.harness.get(path)
	p.keep(body)
	return resp, body, tok
}

// token returns a CSRF token for the forms (the cookie is in the jar).
func (p *pages) token() string {
	_, _, tok := p.get("/lines")
	return tok
}

func (p *pages) post(path string, form url.Values) (*http.Response, string) {
	p.t.Helper()
	resp, body := p.harness.post(path, form)
	p.keep(body)
	return resp, body
}

// multipart posts a form with files (name → file content).
func (p *pages) multipart(path string, form url.Values, files map[string][]byte) (*http.Response, string) {
	p.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for k, data := range files {
		fw, _ := mw.CreateFormFile(k, k+".upload")
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", p.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := p.c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	p.keep(string(b))
	return resp, string(b)
}

func (p *pages) file() []byte {
	p.t.Helper()
	b, err := os.ReadFile(p.store.Path())
	if err != nil {
		p.t.Fatal(err)
	}
	return b
}

// refused posts form without a CSRF token and checks it is refused and the
// file untouched.
func (p *pages) refused(path string, form url.Values) {
	p.t.Helper()
	before := p.file()
	form = maps.Clone(form)
	form.Del("csrf")
	if resp, _ := p.post(path, form); resp.StatusCode != http.StatusForbidden {
		p.t.Errorf("POST %s without CSRF token: %s", path, resp.Status)
	}
	form.Set("csrf", "forged-forged-forged-forged-forged-forged")
	if resp, _ := p.post(path, form); resp.StatusCode != http.StatusForbidden {
		p.t.Errorf("POST %s with a forged CSRF token: %s", path, resp.Status)
	}
	if !bytes.Equal(before, p.file()) {
		p.t.Errorf("POST %s without CSRF token changed the file", path)
	}
}

// rejected posts a bad form and checks the answer is a 400 page carrying
// each wanted message, and that nothing was saved or announced.
func (p *pages) rejected(path string, form url.Values, files map[string][]byte, wants ...string) string {
	p.t.Helper()
	before, cfg, n := p.file(), p.store.Get(), len(p.changes)
	var resp *http.Response
	var body string
	if files != nil {
		resp, body = p.multipart(path, form, files)
	} else {
		resp, body = p.post(path, form)
	}
	if resp.StatusCode != http.StatusBadRequest {
		p.t.Errorf("bad POST %s: %s", path, resp.Status)
	}
	if !strings.Contains(body, "Nothing was") {
		p.t.Errorf("bad POST %s: the page does not say nothing was saved", path)
	}
	for _, w := range wants {
		if !strings.Contains(body, w) {
			p.t.Errorf("bad POST %s: the page lacks %q:\n%s", path, w, body)
		}
	}
	if !bytes.Equal(before, p.file()) {
		p.t.Errorf("bad POST %s changed the file", path)
	}
	if got := p.store.Get(); fmt.Sprint(got) != fmt.Sprint(cfg) || len(p.changes) != n {
		p.t.Errorf("bad POST %s changed the configuration in force", path)
	}
	return body
}

// fieldError is how a message next to a field is rendered.
func fieldError(name, msg string) string {
	return `<p class="field-error" id="err-` + name + `">` + name + ": " + msg + "</p>"
}

func TestPagesRenderBehindLogin(t *testing.T) {
	p := newPages(t, nil)
	for _, path := range []string{"/", "/lines", "/lines/1", "/lines/2", "/sip", "/region", "/network", "/history", "/maintenance"} {
		resp, body, tok := p.get(path)
		if resp.StatusCode != http.StatusOK || tok == "" {
			t.Errorf("GET %s: %s, token %q", path, resp.Status, tok)
		}
		for _, nav := range []string{`href="/lines"`, `href="/sip"`, `href="/region"`, `href="/network"`, `href="/history"`, `href="/maintenance"`} {
			if !strings.Contains(body, nav) {
				t.Errorf("GET %s: nav bar lacks %s", path, nav)
			}
		}
		if !strings.Contains(body, `aria-current="page"`) {
			t.Errorf("GET %s: no nav entry is current", path)
		}
	}
	if resp, _, _ := p.get("/lines/5"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a port the board lacks: %s", resp.Status)
	}
	// Logged out, every page sends to the login form and every form is refused.
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/lines", "/lines/1", "/sip", "/region", "/network", "/history", "/maintenance", "/maintenance/logs"} {
		resp, err := anon.Get(p.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("GET %s logged out: %s → %q", path, resp.Status, resp.Header.Get("Location"))
		}
	}
	for _, path := range []string{"/lines/1", "/sip", "/region", "/network", "/maintenance/download", "/maintenance/upload", "/maintenance/reset", "/maintenance/certificate"} {
		resp, err := anon.PostForm(p.srv.URL+path, url.Values{"confirm": {"RESET"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s logged out: %s", path, resp.Status)
		}
	}
}

func TestPagesStatus(t *testing.T) {
	p := newPages(t, nil)
	_, body, _ := p.get("/")
	for _, want := range []string{"registered", "401 Unauthorized", "Alice · 5551234", "PCMU", "jitter 2.5 ms", "lost 3",
		"1.2.3-test", "web 127.0.0.1:8080", "sip udp/tcp 127.0.0.1:5060", `class="uptime">1h0m`} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	p2 := newPages(t, func(o *Options) { o.Listening = func() []string { return []string{"web https://192.0.2.7:443"} } })
	if _, body, _ := p2.get("/"); !strings.Contains(body, "web https://192.0.2.7:443") || strings.Contains(body, "web 127.0.0.1:8080") {
		t.Error("Options.Listening not shown")
	}
}

func lineForm1() url.Values {
	return url.Values{"user": {"1001"}, "display_name": {"Hall"}, "caller_id": {"on"}, "call_waiting": {"on"},
		"forward_busy": {"+4930123"}, "forward_no_answer_s": {"25"}, "warmline_s": {"0"}}
}

func TestPagesLines(t *testing.T) {
	p := newPages(t, nil)
	_, body, _ := p.get("/lines")
	for _, want := range []string{"Kitchen", "1003", "401 Unauthorized", `href="/lines/2">Set up`, `href="/lines/1">Edit`} {
		if !strings.Contains(body, want) {
			t.Errorf("lines page lacks %q", want)
		}
	}
	_, body, tok := p.get("/lines/1")
	if !strings.Contains(body, `name="display_name" value="Kitchen"`) || !strings.Contains(body, `name="password" value=""`) ||
		!strings.Contains(body, `name="clear_password"`) {
		t.Fatalf("line 1 form:\n%s", body)
	}

	// A bad forward number and a bad number of seconds: both shown next to
	// their fields, the typed values kept, nothing saved.
	bad := lineForm1()
	bad.Set("csrf", tok)
	bad.Set("forward_busy", "12ab")
	bad.Set("forward_no_answer_s", "soon")
	bad.Set("password", "new-line-secret")
	body = p.rejected("/lines/1", bad, nil,
		fieldError("forward_busy", "&#34;12ab&#34; is not a number or SIP address"),
		fieldError("forward_no_answer_s", "&#34;soon&#34; is not a whole number"),
		`name="display_name" value="Hall"`, `name="forward_busy" value="12ab"`)
	bad.Set("forward_busy", "")
	bad.Set("forward_no_answer_s", "3")
	p.rejected("/lines/1", bad, nil, fieldError("forward_no_answer_s", "3 is out of range 5…300"))
	bad.Set("forward_no_answer_s", "20")
	bad.Set("extension", "**3") // port 3's default extension
	p.rejected("/lines/1", bad, nil, "is already the extension of line[1]")
	p.refused("/lines/1", lineForm1())

	// A good form: saved, in force, announced; the password kept.
	good := lineForm1()
	good.Set("csrf", tok)
	resp, _ := p.post("/lines/1", good)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/lines/1?saved=1" {
		t.Fatalf("good POST: %s", resp.Status)
	}
	onDisk, err := config.Load(p.store.Path())
	if err != nil {
		t.Fatal(err)
	}
	l := onDisk.Lines[0]
	if l.DisplayName != "Hall" || l.ForwardBusy != "+4930123" || l.ForwardNoAnswerS != 25 || l.Password != lineSecret1 || l.DND || !l.CallerID {
		t.Fatalf("saved line %+v", l)
	}
	if len(p.changes) != 1 || p.changes[0].Lines[0].DisplayName != "Hall" || p.store.Get().Lines[0].DisplayName != "Hall" {
		t.Fatalf("change not in force or not announced: %d changes", len(p.changes))
	}
	if _, body, _ := p.get("/lines/1?saved=1"); !strings.Contains(body, "Saved.") || !strings.Contains(body, `value="Hall"`) {
		t.Error("no notice after saving")
	}
	// A new password, then clearing it.
	good.Set("password", "new-line-secret")
	p.post("/lines/1", good)
	if p.store.Get().Lines[0].Password != "new-line-secret" {
		t.Fatal("new password not saved")
	}
	good.Del("password")
	good.Set("clear_password", "on")
	p.post("/lines/1", good)
	if p.store.Get().Lines[0].Password != "" {
		t.Fatal("password not cleared")
	}

	// Port 2 has no entry: an empty form; saving without a user is refused,
	// with one creates the entry.
	_, body, _ = p.get("/lines/2")
	if !strings.Contains(body, `name="user" value=""`) || !strings.Contains(body, "no account yet") || strings.Contains(body, "clear_password") {
		t.Fatalf("port 2 form:\n%s", body)
	}
	form2 := url.Values{"csrf": {tok}, "display_name": {"Office"}, "caller_id": {"on"}, "forward_no_answer_s": {"20"}}
	p.rejected("/lines/2", form2, nil, fieldError("user", "must not be empty"))
	form2.Set("user", "1002")
	form2.Set("password", "new-line-secret")
	if resp, _ := p.post("/lines/2", form2); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("creating line 2: %s", resp.Status)
	}
	c := p.store.Get()
	if len(c.Lines) != 3 || c.Lines[2].Port != 2 || c.Lines[2].User != "1002" || c.Lines[2].Password != "new-line-secret" || c.Lines[2].CallWaiting {
		t.Fatalf("line 2 not created: %+v", c.Lines)
	}
}

// testCA returns a self-signed CA certificate in PEM.
func testCA(t *testing.T) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func sipForm1() url.Values {
	return url.Values{"registrar": {"sip.example.net"}, "transport": {"tls"}, "srtp": {"required"}, "codecs": {"pcma,pcmu"},
		"dtmf": {"rfc4733"}, "ptime_ms": {"20"}, "rtp_port_min": {"20000"}, "rtp_port_max": {"20099"}, "register_expires_s": {"600"}}
}

func TestPagesSIP(t *testing.T) {
	p := newPages(t, nil)
	_, body, tok := p.get("/sip")
	if !strings.Contains(body, `enctype="multipart/form-data"`) || !strings.Contains(body, `<option value="tls" selected>`) {
		t.Fatalf("SIP form:\n%s", body)
	}
	caPath := filepath.Join(filepath.Dir(p.store.Path()), "sip-ca.pem")
	bad := sipForm1()
	bad.Set("csrf", tok)
	bad.Set("registrar", "sip example")
	bad.Set("rtp_port_max", "20001")
	bad.Set("codecs", "pcmu,g729")
	p.rejected("/sip", bad, map[string][]byte{"ca": []byte("not a certificate")},
		fieldError("registrar", "&#34;sip example&#34; is not a host name or address"),
		fieldError("rtp_port_max", "20001 must be at least rtp_port_min&#43;3 and at most 65535"),
		fieldError("codecs", "codec 2, &#34;g729&#34;, is not pcmu or pcma"),
		fieldError("ca", "the file holds no PEM certificate (-----BEGIN CERTIFICATE-----)"), `name="registrar" value="sip example"`)
	// A good form with a bad certificate saves nothing either.
	good := sipForm1()
	good.Set("csrf", tok)
	key := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	p.rejected("/sip", good, map[string][]byte{"ca": key}, fieldError("ca", "the file holds a ec private key; upload only the CA&#39;s certificate"))
	if _, err := os.Stat(caPath); !os.IsNotExist(err) {
		t.Fatal("a refused CA certificate was stored")
	}
	p.refused("/sip", sipForm1())

	ca := testCA(t)
	if resp, body := p.multipart("/sip", good, map[string][]byte{"ca": ca}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good SIP form: %s\n%s", resp.Status, body)
	}
	c := p.store.Get().SIP
	if c.Registrar != "sip.example.net" || c.SRTP != "required" || strings.Join(c.Codecs, ",") != "pcma,pcmu" || c.CAFile != "sip-ca.pem" ||
		c.RegisterExpires != 600 || c.MWI || c.RTPPortMin != 20000 {
		t.Fatalf("saved %+v", c)
	}
	if stored, err := os.ReadFile(caPath); err != nil || !bytes.Equal(stored, ca) {
		t.Fatalf("CA certificate not stored next to the config: %v", err)
	}
	if onDisk, _ := config.Load(p.store.Path()); onDisk.SIP.CAFile != "sip-ca.pem" || len(p.changes) != 1 {
		t.Fatal("not saved or not announced")
	}
	// Without a new file the certificate stays; the checkbox drops it.
	good.Set("mwi_subscribe", "on")
	p.multipart("/sip", good, nil)
	if c := p.store.Get().SIP; c.CAFile != "sip-ca.pem" || !c.MWI {
		t.Fatalf("saved %+v", c)
	}
	_, body, _ = p.get("/sip")
	if !strings.Contains(body, "sip-ca.pem") || !strings.Contains(body, `name="clear_ca"`) {
		t.Fatal("the CA in use is not shown")
	}
	good.Set("clear_ca", "on")
	p.multipart("/sip", good, nil)
	if p.store.Get().SIP.CAFile != "" {
		t.Fatal("CA not dropped")
	}
}

func TestPagesRegion(t *testing.T) {
	p := newPages(t, nil)
	_, body, tok := p.get("/region")
	for _, want := range []string{`<option value="us" selected>United States (us)</option>`, "Germany (de)",
		"Default (the country&#39;s usual: Bell 202 FSK", "600 Ω", "2 s on, 4 s off at 20 Hz"} {
		if !strings.Contains(body, want) {
			t.Errorf("region page lacks %q", want)
		}
	}
	form := url.Values{"csrf": {tok}, "country": {"de"}, "caller_id": {""}, "caller_id_alert": {"rpas"},
		"caller_id_polarity_reversal": {"on"}, "flash_min_ms": {"120"}, "flash_max_ms": {"60"}, "howler_after_s": {"x"}}
	p.rejected("/region", form, nil,
		fieldError("flash_max_ms", "60 must be above flash_min_ms and at most 2000"),
		fieldError("howler_after_s", "&#34;x&#34; is not a whole number"))
	form.Set("country", "zz")
	p.rejected("/region", form, nil, `<p class="field-error" id="err-country">country: tone: unknown country &#34;zz&#34;`)
	p.refused("/region", form)
	form.Set("country", "de")
	form.Set("flash_max_ms", "700")
	form.Set("howler_after_s", "60")
	if resp, _ := p.post("/region", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good region form: %s", resp.Status)
	}
	r := p.store.Get().Region
	if r.Country != "de" || r.CallerIDAlert != "rpas" || !r.CallerIDPolarity || r.FlashMinMS != 120 || r.FlashMaxMS != 700 || r.HowlerAfterS != 60 || len(p.changes) != 1 {
		t.Fatalf("saved %+v", r)
	}
	if _, body, _ := p.get("/region"); !strings.Contains(body, "220+820||115nF Ω") && !strings.Contains(body, "Germany (de)</option>") {
		t.Error("the country's line data is not shown")
	}
}

func TestPagesHistory(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.Local)
	var recs []line.Record
	for i := 59; i >= 0; i-- { // newest first
		recs = append(recs, line.Record{Start: t0.Add(time.Duration(i) * time.Minute), Port: 1 + i%2, Direction: "in",
			Number: fmt.Sprintf("555%04d", i), Duration: 65, Result: "answered"})
	}
	recs[0].Name, recs[0].Direction, recs[0].Result = "Bob <b>", "out", "404 Not Found"
	p := newPages(t, func(o *Options) { o.Calls = func() []line.Record { return recs } })
	_, body, _ := p.get("/history")
	if !strings.Contains(body, "Calls 1–25 of 60") || !strings.Contains(body, "Bob &lt;b&gt; · 5550059") || !strings.Contains(body, "2026-03-01 12:59:00") ||
		!strings.Contains(body, "1m5s") || !strings.Contains(body, "404 Not Found") || !strings.Contains(body, `href="/history?page=2"`) {
		t.Fatalf("history page 1:\n%s", body)
	}
	if strings.Index(body, "5550059") > strings.Index(body, "5550058") || strings.Contains(body, "5550034") {
		t.Error("page 1 is not the newest 25, newest first")
	}
	_, body, _ = p.get("/history?page=3")
	if !strings.Contains(body, "Calls 51–60 of 60") || !strings.Contains(body, "5550000") || strings.Contains(body, `rel="next"`) {
		t.Fatalf("history page 3:\n%s", body)
	}
	_, body, _ = p.get("/history?page=99")
	if !strings.Contains(body, "page 3 of 3") {
		t.Error("a page past the end does not show the last")
	}
	empty := newPages(t, nil)
	if _, body, _ := empty.get("/history"); !strings.Contains(body, "No calls yet") {
		t.Error("empty history")
	}
}

func TestPagesMaintenance(t *testing.T) {
	restarts := 0
	p := newPages(t, func(o *Options) {
		o.Restart = func() error { restarts++; return nil }
		o.Logs = func() []byte { return []byte("level=INFO msg=hello\n") }
	})
	_, body, tok := p.get("/maintenance")
	for _, want := range []string{"1.2.3-test", `action="/maintenance/restart"`, `href="/maintenance/logs"`, `action="/maintenance/upload"`, "Type RESET to confirm"} {
		if !strings.Contains(body, want) {
			t.Errorf("maintenance page lacks %q", want)
		}
	}
	// Download without secrets.
	resp, dl := p.post("/maintenance/download", url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %s", resp.Status)
	}
	redacted, err := config.Parse("dl.toml", []byte(dl))
	if err != nil || redacted.Lines[0].User != "1001" || redacted.Lines[0].Password != "" || redacted.Web.AdminPasswordHash != "" {
		t.Fatalf("downloaded file: %v\n%s", err, dl)
	}
	// With secrets: only with the admin password.
	p.rejectedCode(http.StatusForbidden, "/maintenance/download", url.Values{"csrf": {tok}, "include_secrets": {"on"}, "admin_password": {"wrong"}},
		fieldError("admin_password", "wrong password"))
	p.clock.add(2 * time.Second) // the login limiter's delay
	resp, full := p.harness.post("/maintenance/download", url.Values{"csrf": {tok}, "include_secrets": {"on"}, "admin_password": {pagesAdminPW}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(full, lineSecret1) || !strings.Contains(full, pagesHash) {
		t.Fatalf("download with secrets: %s", resp.Status)
	}
	p.refused("/maintenance/download", url.Values{})

	// Upload: a bad file is refused with file:line:key errors.
	p.rejected("/maintenance/upload", url.Values{"csrf": {tok}}, map[string][]byte{"config": []byte("[board]\nname = \"sim\"\nprots = 2\n[sip]\ntransport = \"sctp\"\n")},
		"config.upload:3: board.prots: unknown key")
	p.rejected("/maintenance/upload", url.Values{"csrf": {tok}}, map[string][]byte{"config": []byte("[sip]\ntransport = \"sctp\"\n[[line]]\nport = 9\nuser = \"a\"\n")},
		"config.upload:2: sip.transport: &#34;sctp&#34; is not one of udp, tcp, tls", "config.upload:4: line[1].port: 9 is not a port of this board (1…2)")
	p.refused("/maintenance/upload", url.Values{})
	// The redacted download, edited, goes back in: the secrets stay.
	edited := strings.Replace(dl, `display_name = 'Kitchen'`, `display_name = 'Porch'`, 1)
	if edited == dl {
		t.Fatalf("no display name to edit in\n%s", dl)
	}
	if resp, _ := p.multipart("/maintenance/upload", url.Values{"csrf": {tok}}, map[string][]byte{"config": []byte(edited)}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %s", resp.Status)
	}
	c := p.store.Get()
	if c.Lines[0].DisplayName != "Porch" || c.Lines[0].Password != lineSecret1 || c.Lines[1].Password != lineSecret3 || c.Web.AdminPasswordHash != pagesHash {
		t.Fatalf("uploaded: %+v", c)
	}
	if _, body, _ := p.get("/maintenance?done=upload"); !strings.Contains(body, "is in force") {
		t.Error("no notice after the upload")
	}

	// Logs and restart.
	if _, body, _ := p.get("/maintenance/logs"); body != "level=INFO msg=hello\n" {
		t.Errorf("logs: %q", body)
	}
	p.refused("/maintenance/restart", url.Values{})
	if resp, body := p.post("/maintenance/restart", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusOK || !strings.Contains(body, "restarting") || restarts != 1 {
		t.Fatalf("restart: %s, %d calls", resp.Status, restarts)
	}

	// Factory reset: the word must be typed.
	p.rejected("/maintenance/reset", url.Values{"csrf": {tok}, "confirm": {"reset"}}, nil, fieldError("confirm", "type RESET in capitals to confirm"))
	p.refused("/maintenance/reset", url.Values{"confirm": {"RESET"}})
	os.WriteFile(filepath.Join(filepath.Dir(p.store.Path()), "sip-ca.pem"), testCA(t), 0o600)
	before := p.store.Get()
	resp, _ = p.post("/maintenance/reset", url.Values{"csrf": {tok}, "confirm": {"RESET"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/setup" {
		t.Fatalf("reset: %s", resp.Status)
	}
	onDisk, err := config.Load(p.store.Path())
	// Everything is back to the defaults but the board and the page's
	// listen address, which keep a real device reachable.
	want := config.Default()
	want.Board, want.Web.Listen = before.Board, before.Web.Listen
	if err != nil || fmt.Sprint(onDisk) != fmt.Sprint(want) || fmt.Sprint(p.store.Get()) != fmt.Sprint(want) {
		t.Fatalf("after reset: %v %+v", err, onDisk)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(p.store.Path()), "sip-ca.pem")); !os.IsNotExist(err) {
		t.Error("the CA certificate survived the reset")
	}
	if resp, _, _ := p.get("/lines"); resp.Header.Get("Location") != "/setup" {
		t.Errorf("after reset the next visit goes to %q, want /setup", resp.Header.Get("Location"))
	}
}

func (p *pages) rejectedCode(code int, path string, form url.Values, wants ...string) {
	p.t.Helper()
	before := p.file()
	resp, body := p.post(path, form)
	if resp.StatusCode != code {
		p.t.Errorf("POST %s: %s, want %d", path, resp.Status, code)
	}
	for _, w := range wants {
		if !strings.Contains(body, w) {
			p.t.Errorf("POST %s: the page lacks %q", path, w)
		}
	}
	if !bytes.Equal(before, p.file()) {
		p.t.Errorf("POST %s changed the file", path)
	}
}

func TestPagesOptionalMaintenanceHidden(t *testing.T) {
	p := newPages(t, nil)
	_, body, tok := p.get("/maintenance")
	if strings.Contains(body, "/maintenance/restart") || strings.Contains(body, "/maintenance/logs") || strings.Contains(body, "/maintenance/update") {
		t.Error("restart, logs or update offered without their callbacks")
	}
	if resp, _ := p.post("/maintenance/update", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("update without an updater: %s", resp.Status)
	}
	if resp, _ := p.post("/maintenance/restart", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("restart without a callback: %s", resp.Status)
	}
	if resp, _, _ := p.get("/maintenance/logs"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("logs without a callback: %s", resp.Status)
	}
}
