package main

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tipring/tipring/dsp/tone"
	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/hal"
)

// wpSetup sets the admin password on the first visit, which logs in.
func wpSetup(t *testing.T, ctx context.Context, base, pw string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`input[name=confirm]`),
		chromedp.SendKeys(`input[name=password]`, pw),
		chromedp.SendKeys(`input[name=confirm]`, pw),
		chromedp.Submit(`form`),
		chromedp.WaitVisible(`nav a[href="/network"]`),
	); err != nil {
		t.Fatal(err)
	}
}

func wpShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if dir := os.Getenv("TIPRING_SCREENSHOTS"); dir != "" {
		if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(dir, name), shot, 0o644)
		}
	}
}

// TestWebpagesBrowserNetworkSyslog sets a syslog server on the Network page
// in headless Chromium, pointing at a UDP listener of the test: after a bad
// address is refused next to its field, the saved setting is applied without
// a restart, and logging in again sends an RFC 5424 message about it. The
// page shows the clock and its synchronisation, and that provisioning is off.
func TestWebpagesBrowserNetworkSyslog(t *testing.T) {
	ctx := newBrowser(t, 120*time.Second)
	sink := startSyslogSink(t)
	g := startGateway(t, "")
	started := g.started
	must, text := browserHelpers(t, ctx)
	base := "http://" + g.addr()
	const pw = "blue-Harbor-42"
	wpSetup(t, ctx, base, pw)
	must(chromedp.Do(ctx,
		chromedp.Click(`nav a[href="/network"]`),
		chromedp.WaitVisible(`#f-server`),
	))
	if c := text(`.clock`); !strings.Contains(c, "System clock") || !strings.Contains(c, "synchronised") {
		t.Errorf("clock line: %q", c)
	}
	if p := text(`.prov-off`); !strings.Contains(p, "Off") {
		t.Errorf("provisioning status: %q", p)
	}
	before, err := os.ReadFile(g.store.Path())
	must(err)
	must(chromedp.Do(ctx,
		chromedp.SetValue(`#f-server`, "syslog.example.net"),
		chromedp.Click(`form.settings button`),
		chromedp.WaitVisible(`#err-server`),
	))
	if msg := text(`#err-server`); !strings.Contains(msg, `server: "syslog.example.net" is not host:port`) {
		t.Fatalf("message next to the field: %q", msg)
	}
	if after, _ := os.ReadFile(g.store.Path()); !bytes.Equal(before, after) {
		t.Fatal("a bad syslog server was saved")
	}
	must(chromedp.Do(ctx,
		chromedp.SetValue(`#f-server`, sink.udpAddr),
		chromedp.SetValue(`#f-transport`, "udp"),
		chromedp.SetValue(`#f-level`, "info"),
		chromedp.Click(`form.settings button`),
		chromedp.WaitVisible(`.notice`),
	))
	if s := g.store.Get().Syslog; s.Server != sink.udpAddr || s.Transport != "udp" {
		t.Fatalf("saved %+v", s)
	}
	wpShot(t, ctx, "network.png")
	wait := func(substr string) string {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if m, ok := sink.find(false, substr); ok {
				return m
			}
			if time.Now().After(deadline) {
				t.Fatalf("no syslog message with %q", substr)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	wait("remote syslog on") // applied, no restart
	must(chromedp.Do(ctx,
		chromedp.Click(`.logout button`),
		chromedp.WaitVisible(`input[name=password]`),
		chromedp.SendKeys(`input[name=password]`, pw),
		chromedp.Submit(`form`),
		chromedp.WaitVisible(`nav a[href="/network"]`),
	))
	m := wait("admin logged in")
	if !syslogRFC5424.MatchString(m) || !strings.Contains(m, "127.0.0.1") {
		t.Errorf("not an RFC 5424 message about the login: %q", m)
	}
	sink.mu.Lock()
	raw := sink.raw.String()
	sink.mu.Unlock()
	if strings.Contains(raw, pw) || strings.Contains(raw, "$argon2id$") {
		t.Error("a password or its hash went to syslog")
	}
	if g.started != started {
		t.Error("the gateway restarted")
	}
}

// TestWebpagesBrowserCrossSite logs in, then opens a page of another origin
// (a second server, as a malicious site would be) whose forms submit
// themselves to the gateway while the browser holds a valid session: one
// changes line 1 with a guessed token, one asks for a factory reset with the
// session's real token (as if it had leaked). The gateway refuses both with
// 403, and the configuration file stays byte for byte the same.
func TestWebpagesBrowserCrossSite(t *testing.T) {
	ctx := newBrowser(t, 90*time.Second)
	g := startGateway(t, "")
	must, _ := browserHelpers(t, ctx)
	base := "http://" + g.addr()
	wpSetup(t, ctx, base, "blue-Harbor-42")
	must(chromedp.Do(ctx, chromedp.Navigate(base+"/lines/1"), chromedp.WaitVisible(`#f-display_name`)))
	token, err := chromedp.Run(ctx, chromedp.Value(`form.settings input[name=csrf]`))
	must(err)
	before, err := os.ReadFile(g.store.Path())
	must(err)
	cfgBefore := g.store.Get()

	page := template.Must(template.New("").Parse(`<!doctype html><title>Win a prize</title>
<form id="f" method="post" action="{{.Action}}">{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}</form>
<script>document.getElementById("f").submit()</script>`))
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data := struct {
			Action string
			Fields map[string]string
		}{}
		switch r.URL.Path {
		case "/line":
			data.Action = base + "/lines/1"
			data.Fields = map[string]string{"csrf": "guessed-guessed-guessed-guessed-guessed", "user": "6666", "display_name": "Pwned",
				"forward_always": "+19005550100", "forward_no_answer_s": "20"}
		case "/reset":
			data.Action = base + "/maintenance/reset"
			data.Fields = map[string]string{"csrf": token, "confirm": "RESET"}
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page.Execute(w, data)
	}))
	defer evil.Close()
	if strings.TrimPrefix(evil.URL, "http://") == g.addr() {
		t.Fatal("the two servers share an origin")
	}
	for _, path := range []string{"/line", "/reset"} {
		must(chromedp.Do(ctx, chromedp.Navigate(evil.URL+path)))
		// The form submits itself on load; wait for the gateway's answer.
		deadline := time.Now().Add(10 * time.Second)
		for {
			loc, err := chromedp.Run(ctx, chromedp.Location())
			must(err)
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState`))
			if strings.HasPrefix(loc, base) && state == "complete" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the browser did not reach the gateway (at %s)", path, loc)
			}
			time.Sleep(50 * time.Millisecond)
		}
		status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`performance.getEntriesByType("navigation")[0].responseStatus`))
		must(err)
		body, err := chromedp.Run(ctx, chromedp.Text(`body`))
		must(err)
		if status != http.StatusForbidden || !strings.Contains(body, "did not come from this gateway's page") {
			t.Errorf("cross-site POST from %s: status %d, page %q", path, status, body)
		}
	}
	if after, err := os.ReadFile(g.store.Path()); err != nil || !bytes.Equal(before, after) {
		t.Fatal("a cross-site request changed the configuration file")
	}
	if fmt.Sprint(g.store.Get()) != fmt.Sprint(cfgBefore) {
		t.Fatal("a cross-site request changed the configuration in force")
	}
	// The session itself is untouched: the admin is still logged in.
	must(chromedp.Do(ctx, chromedp.Navigate(base+"/lines/1"), chromedp.WaitVisible(`#f-display_name`)))
	if v, _ := chromedp.Run(ctx, chromedp.Value(`#f-display_name`)); v == "Pwned" {
		t.Fatal("line 1 was changed")
	}
}

// TestWebpagesBrowserBruteForce types ten wrong passwords in a row into the
// login form. Each must wait longer than the one before (the wait after the
// first is shortened from 1 s to 10 ms for the test, and doubles with every
// failure): an attempt inside the wait is answered 429 "Too many wrong
// passwords" with a Retry-After that grows, and is not even checked, so
// the right password is refused too until the wait has passed.
func TestWebpagesBrowserBruteForce(t *testing.T) {
	const first = 10 * time.Millisecond
	webLoginDelay = first
	t.Cleanup(func() { webLoginDelay = 0 })
	ctx := newBrowser(t, 120*time.Second)
	g := startGateway(t, "")
	must, _ := browserHelpers(t, ctx)
	base := "http://" + g.addr()
	const pw = "blue-Harbor-42"
	wpSetup(t, ctx, base, pw)
	must(chromedp.Do(ctx, chromedp.Click(`.logout button`), chromedp.WaitVisible(`input[name=password]`)))
	type answer struct {
		status     int64
		retryAfter string
		msg        string
	}
	try := func(password string) answer {
		t.Helper()
		must(chromedp.Do(ctx, chromedp.WaitVisible(`input[name=password]`), chromedp.SetValue(`input[name=password]`, password)))
		resp, err := chromedp.RunResponse(ctx, chromedp.Submit(`form`))
		must(err)
		a := answer{status: resp.Status}
		if v, ok := resp.Headers["Retry-After"]; ok {
			a.retryAfter = fmt.Sprint(v)
		}
		if a.status != http.StatusSeeOther && a.status != http.StatusOK {
			a.msg, _ = chromedp.Run(ctx, chromedp.Text(`.error`))
		}
		return a
	}
	tooMany := regexp.MustCompile(`^Too many wrong passwords: try again in (\d+) s\.$`)
	// waitSecs checks a refusal for the limiter and returns its wait.
	waitSecs := func(what string, a answer) int {
		t.Helper()
		m := tooMany.FindStringSubmatch(a.msg)
		if a.status != http.StatusTooManyRequests || m == nil || a.retryAfter != m[1] {
			t.Fatalf("%s: %d %q, Retry-After %q; want 429 and the wait", what, a.status, a.msg, a.retryAfter)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	var waits []int
	for n := 1; n <= 10; n++ {
		a := try(fmt.Sprintf("wrong-guess-%d", n))
		if a.status != http.StatusUnauthorized || a.msg != "Wrong password." {
			t.Fatalf("wrong password %d: %d %q", n, a.status, a.msg)
		}
		delay := first << (n - 1)
		failed := time.Now()
		if n >= 8 && n < 10 { // long enough waits to catch inside
			waits = append(waits, waitSecs(fmt.Sprintf("at once after wrong password %d", n), try("another-guess")))
		}
		if n < 10 {
			time.Sleep(time.Until(failed.Add(delay + 50*time.Millisecond)))
		}
	}
	// After the tenth, even the right password is refused, unchecked.
	failed := time.Now()
	waits = append(waits, waitSecs("the right password at once after ten wrong ones", try(pw)))
	if !(waits[0] < waits[1] && waits[1] < waits[2]) {
		t.Errorf("the waits do not grow: %v s", waits)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Title()); !strings.Contains(v, "Log in") {
		t.Fatalf("the right password inside the wait got through: %q", v)
	}
	wpShot(t, ctx, "too-many.png")
	time.Sleep(time.Until(failed.Add(first<<9 + 100*time.Millisecond)))
	if a := try(pw); a.status != http.StatusOK {
		t.Fatalf("the right password after the wait: %d %q", a.status, a.msg)
	}
	must(chromedp.Do(ctx, chromedp.WaitVisible(`nav a[href="/network"]`)))
}

// TestWebpagesSIPSettingsWiring checks that sip.keepalive_s reaches the
// agent (0 is off, which the agent spells negative) and sip.fax_reinvite
// the lines.
func TestWebpagesSIPSettingsWiring(t *testing.T) {
	if keepalive(0) >= 0 || keepalive(30) != 30*time.Second || keepalive(600) != 10*time.Minute {
		t.Fatalf("keepalive: %v %v %v", keepalive(0), keepalive(30), keepalive(600))
	}
	cfg := config.Default()
	country, err := tone.Lookup(cfg.Region.Country)
	if err != nil {
		t.Fatal(err)
	}
	for _, on := range []bool{true, false} {
		cfg.SIP.FaxReinvite = on
		lc, err := lineConfig(cfg, hal.Port{Number: 1}, country)
		if err != nil || lc.FaxReinvite != on {
			t.Fatalf("fax_reinvite %v: line gets %v (%v)", on, lc.FaxReinvite, err)
		}
	}
}
