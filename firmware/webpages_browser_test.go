package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tipring/tipring/firmware/config"
)

// TestWebpagesBrowserLines drives the settings pages in headless Chromium
// on a phone-sized window: the first visit sets the admin password, the
// admin logs out and in again, opens Lines, gives port 1 a new display name
// with a bad forward number — the message shows next to the field and
// nothing is saved — then fixes the number and saves; the call history
// page renders.
func TestWebpagesBrowserLines(t *testing.T) {
	g := startGateway(t, "")
	ctx := newBrowser(t, 120*time.Second)
	must, text := browserHelpers(t, ctx)
	base := "http://" + g.addr()
	const pw = "blue-Harbor-42"
	must(chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`input[name=confirm]`),
		chromedp.SendKeys(`input[name=password]`, pw),
		chromedp.SendKeys(`input[name=confirm]`, pw),
		chromedp.Submit(`form`),
		chromedp.WaitVisible(`nav a[href="/lines"]`),
		chromedp.Click(`.logout button`),
		chromedp.WaitVisible(`input[name=password]`),
		chromedp.SendKeys(`input[name=password]`, pw),
		chromedp.Submit(`form`),
		chromedp.WaitVisible(`nav a[href="/lines"]`),
		chromedp.Click(`nav a[href="/lines"]`),
		chromedp.WaitVisible(`a[href="/lines/1"]`),
		chromedp.Click(`a[href="/lines/1"]`),
		chromedp.WaitVisible(`#f-display_name`),
	))
	before, err := os.ReadFile(g.store.Path())
	must(err)
	must(chromedp.Do(ctx,
		chromedp.SetValue(`#f-display_name`, "Hall phone"),
		chromedp.SetValue(`#f-forward_always`, "12 34"),
		chromedp.Click(`form.settings button`),
		chromedp.WaitVisible(`#err-forward_always`),
	))
	if msg := text(`#err-forward_always`); !strings.Contains(msg, `forward_always: "12 34" is not a number or SIP address`) {
		t.Fatalf("message next to the field: %q", msg)
	}
	if top := text(`.error`); !strings.Contains(top, "Nothing was saved") {
		t.Fatalf("page error: %q", top)
	}
	if dir := os.Getenv("TIPRING_SCREENSHOTS"); dir != "" {
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		must(err)
		os.WriteFile(filepath.Join(dir, "line-error.png"), shot, 0o644)
	}
	kept, err := chromedp.Run(ctx, chromedp.Value(`#f-display_name`))
	must(err)
	if kept != "Hall phone" {
		t.Fatalf("the typed display name was not kept: %q", kept)
	}
	if after, _ := os.ReadFile(g.store.Path()); string(after) != string(before) || g.store.Get().Lines[0].DisplayName == "Hall phone" {
		t.Fatal("a form with a bad forward number was saved")
	}
	must(chromedp.Do(ctx,
		chromedp.SetValue(`#f-forward_always`, "+4930123456"),
		chromedp.Click(`form.settings button`),
		chromedp.WaitVisible(`.notice`),
	))
	if l := g.store.Get().Lines[0]; l.DisplayName != "Hall phone" || l.ForwardAlways != "+4930123456" {
		t.Fatalf("line 1 after saving: %+v", l)
	}
	if onDisk, err := config.Load(g.store.Path()); err != nil || onDisk.Lines[0].DisplayName != "Hall phone" {
		t.Fatalf("not on disk: %v", err)
	}
	must(chromedp.Do(ctx,
		chromedp.Click(`nav a[href="/history"]`),
		chromedp.WaitVisible(`nav a[aria-current=page][href="/history"]`),
	))
	if h := text(`main h1`); h != "Call history" {
		t.Fatalf("history page heading %q", h)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(err)
	if dir := os.Getenv("TIPRING_SCREENSHOTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, "history.png"), shot, 0o644)
	}
}

var wpCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// wpClient is a browser without JavaScript: cookies, no redirects followed.
func wpClient(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func wpGet(t *testing.T, c *http.Client, u string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok := ""
	if m := wpCSRF.FindSubmatch(b); m != nil {
		tok = string(m[1])
	}
	return resp.StatusCode, string(b), tok
}

func wpPost(t *testing.T, c *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

// TestWebpagesGateway checks the pages as the real gateway wires them: every
// page renders after the first-visit setup, a line's form saves to the
// gateway's configuration file, and the line passwords of the file never
// reach a page.
func TestWebpagesGateway(t *testing.T) {
	g := startGateway(t, "")
	base := "http://" + g.addr()
	c := wpClient(t)
	_, _, tok := wpGet(t, c, base+"/setup")
	if code, _ := wpPost(t, c, base+"/setup", url.Values{"csrf": {tok}, "password": {"blue-Harbor-42"}, "confirm": {"blue-Harbor-42"}}); code != http.StatusSeeOther {
		t.Fatalf("setup: %d", code)
	}
	secrets := []string{}
	for _, l := range g.store.Get().Lines {
		if l.Password != "" {
			secrets = append(secrets, `"`+l.Password+`"`, `value="`+l.Password+`"`)
		}
	}
	for _, p := range []string{"/", "/lines", "/lines/1", "/lines/2", "/sip", "/region", "/history", "/maintenance"} {
		code, body, _ := wpGet(t, c, base+p)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d", p, code)
		}
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("GET %s shows a line password", p)
			}
		}
	}
	_, _, tok = wpGet(t, c, base+"/lines/2")
	code, _ := wpPost(t, c, base+"/lines/2", url.Values{"csrf": {tok}, "user": {"2002"}, "display_name": {"Porch"}, "caller_id": {"on"}, "forward_no_answer_s": {"20"}})
	if code != http.StatusSeeOther {
		t.Fatalf("saving line 2: %d", code)
	}
	onDisk, err := config.Load(g.store.Path())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range onDisk.Lines {
		if l.Port == 2 && l.User == "2002" && l.DisplayName == "Porch" {
			found = true
		}
	}
	if !found || onDisk.Version != config.Version {
		t.Fatalf("line 2 not saved (version %d): %+v", onDisk.Version, onDisk.Lines)
	}
}
