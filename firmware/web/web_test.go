package web

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/firmware/line"
	"github.com/tipring/tipring/firmware/passwd"
)

// fakeClock is a settable clock for the session and limiter tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type harness struct {
	t     *testing.T
	srv   *httptest.Server
	store *config.Store
	clock *fakeClock
	c     *http.Client
}

func newHarness(t *testing.T, hash string) *harness {
	t.Helper()
	cfg := config.Default()
	cfg.Web.AdminPasswordHash = hash
	store := config.NewStore(filepath.Join(t.TempDir(), "tipring.toml"), cfg)
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s, err := New(Options{Store: store, Version: "test", Board: "sim", Started: time.Now(), Now: clock.now,
		Lines: func() []line.Status { return []line.Status{{Port: 1, Hook: "on", State: "idle"}} }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &harness{t: t, srv: srv, store: store, clock: clock, c: c}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches a page and returns its body and the CSRF token in its forms.
func (h *harness) get(path string) (*http.Response, string, string) {
	h.t.Helper()
	resp, err := h.c.Get(h.srv.URL + path)
	if err != nil {
		h.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok := ""
	if m := csrfField.FindSubmatch(b); m != nil {
		tok = string(m[1])
	}
	return resp, string(b), tok
}

func (h *harness) post(path string, form url.Values) (*http.Response, string) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.srv.URL)
	resp, err := h.c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestFirstVisitSetsPassword(t *testing.T) {
	h := newHarness(t, "")
	resp, _, _ := h.get("/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/setup" {
		t.Fatalf("first visit: %s → %q", resp.Status, resp.Header.Get("Location"))
	}
	if resp, _, _ := h.get("/login"); resp.Header.Get("Location") != "/setup" {
		t.Fatal("login reachable before a password exists")
	}
	_, body, tok := h.get("/setup")
	if tok == "" || !strings.Contains(body, `type="password"`) {
		t.Fatalf("setup page: %q", body)
	}
	// A weak password is refused and nothing is saved.
	resp, body = h.post("/setup", url.Values{"csrf": {tok}, "password": {"password1"}, "confirm": {"password1"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Password not set") || h.store.Get().Web.AdminPasswordHash != "" {
		t.Fatalf("weak password: %s %q", resp.Status, body)
	}
	// Without the token the form is refused.
	resp, _ = h.post("/setup", url.Values{"password": {"blue-Harbor-42"}, "confirm": {"blue-Harbor-42"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("setup without CSRF token: %s", resp.Status)
	}
	resp, _ = h.post("/setup", url.Values{"csrf": {tok}, "password": {"blue-Harbor-42"}, "confirm": {"blue-Harbor-42"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("setup: %s", resp.Status)
	}
	hash := h.store.Get().Web.AdminPasswordHash
	if ok, err := passwd.Verify(hash, "blue-Harbor-42"); !ok || err != nil {
		t.Fatalf("stored hash does not verify: %v", err)
	}
	if onDisk, err := config.Load(h.store.Path()); err != nil || onDisk.Web.AdminPasswordHash != hash {
		t.Fatalf("hash not saved to the file: %v", err)
	}
	// Logged in right away; setup is closed now.
	resp, body, _ = h.get("/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Status") {
		t.Fatalf("after setup: %s", resp.Status)
	}
	if resp, _, _ := h.get("/setup"); resp.Header.Get("Location") != "/login" {
		t.Fatal("setup still open after the password was set")
	}
}

func TestLoginLogoutAndRateLimit(t *testing.T) {
	hash, _ := passwd.Hash("green-Valley-77")
	h := newHarness(t, hash)
	resp, _, _ := h.get("/")
	if resp.Header.Get("Location") != "/login" {
		t.Fatalf("not sent to login: %q", resp.Header.Get("Location"))
	}
	_, _, tok := h.get("/login")
	// Failures grow the delay: 1 s, then 2 s.
	resp, _ = h.post("/login", url.Values{"csrf": {tok}, "password": {"nope"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %s", resp.Status)
	}
	resp, _ = h.post("/login", url.Values{"csrf": {tok}, "password": {"green-Valley-77"}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("attempt within the delay: %s retry %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	h.clock.add(1100 * time.Millisecond)
	h.post("/login", url.Values{"csrf": {tok}, "password": {"nope again"}})
	resp, _ = h.post("/login", url.Values{"csrf": {tok}, "password": {"green-Valley-77"}})
	if resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("second delay: %s retry %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	h.clock.add(2100 * time.Millisecond)
	resp, _ = h.post("/login", url.Values{"csrf": {tok}, "password": {"green-Valley-77"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("right password after the delay: %s", resp.Status)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.MaxAge != 43200 {
		t.Fatalf("session cookie %+v", session)
	}
	if resp, _, _ := h.get("/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("status page: %s", resp.Status)
	}
	// Sessions expire.
	h.clock.add(sessionTTL + time.Second)
	if resp, _, _ := h.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("expired session still works: %s", resp.Status)
	}
	h.clock.add(-sessionTTL - time.Second)
	h.post("/login", url.Values{"csrf": {tok}, "password": {"green-Valley-77"}})
	_, _, tok = h.get("/")
	resp, _ = h.post("/logout", url.Values{"csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %s", resp.Status)
	}
	if resp, _, _ := h.get("/"); resp.Header.Get("Location") != "/login" {
		t.Fatal("still logged in after logout")
	}
}

func TestCrossSiteRefused(t *testing.T) {
	hash, _ := passwd.Hash("green-Valley-77")
	h := newHarness(t, hash)
	_, _, tok := h.get("/login")
	req, _ := http.NewRequest("POST", h.srv.URL+"/login", strings.NewReader(url.Values{"csrf": {tok}, "password": {"green-Valley-77"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := h.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin login: %s", resp.Status)
	}
	for _, hdr := range [][2]string{{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Site", "same-site"}, {"Origin", "null"}} {
		req, _ = http.NewRequest("POST", h.srv.URL+"/login", strings.NewReader(url.Values{"csrf": {tok}, "password": {"green-Valley-77"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(hdr[0], hdr[1])
		resp, _ = h.c.Do(req)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("login with %s: %s: %s", hdr[0], hdr[1], resp.Status)
		}
	}
	req, _ = http.NewRequest("POST", h.srv.URL+"/login", strings.NewReader(url.Values{"csrf": {"forged"}, "password": {"x"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ = h.c.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged token: %s", resp.Status)
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t, "")
	resp, _, _ := h.get("/setup")
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
	} {
		if got := resp.Header.Get(k); !strings.HasPrefix(got, want) {
			t.Errorf("%s: %q, want prefix %q", k, got, want)
		}
	}
	for _, c := range resp.Cookies() {
		if c.Name == csrfCookie && (!c.HttpOnly || c.SameSite != http.SameSiteStrictMode) {
			t.Errorf("csrf cookie %+v", c)
		}
	}
}

func TestAPIStatusBasicAuth(t *testing.T) {
	h := newHarness(t, "")
	if resp, _, _ := h.get("/api/status"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("before setup: %s", resp.Status)
	}
	hash, _ := passwd.Hash("green-Valley-77")
	h.store.Update(func(c *config.Config) error { c.Web.AdminPasswordHash = hash; return nil })
	req, _ := http.NewRequest("GET", h.srv.URL+"/api/status", nil)
	req.SetBasicAuth("admin", "green-Valley-77")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"lines":[{"port":1,"hook":"on","state":"idle",`) {
		t.Fatalf("status: %s %s", resp.Status, b)
	}
	req.SetBasicAuth("root", "green-Valley-77")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("wrong user: %s", resp.Status)
	}
}

func TestCheckPassword(t *testing.T) {
	for pw, ok := range map[string]bool{
		"short1!":                  false,
		"password123":              false,
		"admin-admin1":             false,
		"1234567890":               false,
		"abcdefghijk":              false,
		"aaaaaaaaaaaa":             false,
		"onlyletterslong":          false,
		"blue-Harbor-42":           true,
		"correct horse battery st": true,
		"Tr0ub4dor&3xyz":           true,
	} {
		if err := checkPassword(pw, pw); (err == nil) != ok {
			t.Errorf("checkPassword(%q) = %v, want ok=%v", pw, err, ok)
		}
	}
	if checkPassword("blue-Harbor-42", "blue-Harbor-43") != errMismatch {
		t.Error("mismatch not reported")
	}
}

func FuzzLoginForm(f *testing.F) {
	hash, _ := passwd.Hash("green-Valley-77")
	cfg := config.Default()
	cfg.Web.AdminPasswordHash = hash
	store := config.NewStore(filepath.Join(f.TempDir(), "t.toml"), cfg)
	s, err := New(Options{Store: store, Started: time.Now()})
	if err != nil {
		f.Fatal(err)
	}
	hd := s.Handler()
	f.Add("csrf=x&password=y", "x")
	f.Add("%%%&&==", "")
	f.Fuzz(func(t *testing.T, body, cookie string) {
		for _, path := range []string{"/login", "/setup", "/logout", "/sim/1/hook"} {
			req := httptest.NewRequest("POST", path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: csrfCookie, Value: url.QueryEscape(cookie)})
			w := httptest.NewRecorder()
			hd.ServeHTTP(w, req)
			if w.Code == http.StatusOK || w.Code == http.StatusSeeOther && path != "/logout" && path != "/setup" {
				t.Fatalf("%s with %q answered %d", path, body, w.Code)
			}
		}
		if store.Get().Web.AdminPasswordHash != hash {
			t.Fatal("a form changed the password")
		}
	})
}

// TestMetricsFormat checks /metrics against the Prometheus text format:
// every sample belongs to a family announced by HELP and TYPE lines, sample
// lines are `name{labels} value`, and label values are escaped.
func TestMetricsFormat(t *testing.T) {
	hash, _ := passwd.Hash("green-Valley-77")
	h := newHarness(t, hash)
	req, _ := http.NewRequest("GET", h.srv.URL+"/metrics", nil)
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("metrics without credentials: %s", resp.Status)
	}
	req.SetBasicAuth("admin", "green-Valley-77")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("content type %q", ct)
	}
	sample := regexp.MustCompile(`^([a-z_]+)(\{[a-z_]+="(?:[^"\\]|\\.)*"(?:,[a-z_]+="(?:[^"\\]|\\.)*")*\})? -?[0-9.]+(e[+-]?[0-9]+)?$`)
	typed := map[string]bool{}
	for _, ln := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
		if f, ok := strings.CutPrefix(ln, "# TYPE "); ok {
			typed[strings.Fields(f)[0]] = true
			continue
		}
		if strings.HasPrefix(ln, "# HELP ") {
			continue
		}
		m := sample.FindStringSubmatch(ln)
		if m == nil {
			t.Fatalf("malformed line %q", ln)
		}
		if !typed[m[1]] {
			t.Fatalf("sample %q before its TYPE line", ln)
		}
	}
	for _, want := range []string{
		`tipring_line_off_hook{port="1"} 0`,
		`tipring_line_state{port="1",state="idle"} 1`,
		`tipring_line_state{port="1",state="dialtone"} 0`,
		`tipring_pcm_underruns_total{port="1"} 0`,
		`tipring_build_info{version="test"} 1`,
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("missing %q in\n%s", want, body)
		}
	}
	if got := quoteLabel("a\"b\\c\nd"); got != `"a\"b\\c\nd"` {
		t.Errorf("quoteLabel: %s", got)
	}
}
