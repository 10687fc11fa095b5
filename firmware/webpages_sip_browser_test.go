package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWebpagesBrowserApplyPassword proves apply-without-reboot end to end
// in headless Chromium, with Kamailio as the registrar: the admin gives
// port 1 a wrong account password on the Lines page, and the status page
// soon shows the line failed to register, with the reason; the right
// password brings it back to registered. The gateway never restarts.
func TestWebpagesBrowserApplyPassword(t *testing.T) {
	g := sipGateway(t, "")
	started := g.started
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
		chromedp.WaitVisible(`tr[data-port="1"] .reg-state`),
	))
	if s := text(`tr[data-port="1"] .reg-state`); s != "registered" {
		t.Fatalf("port 1 shows %q before the change", s)
	}
	setPassword := func(secret string) {
		t.Helper()
		must(chromedp.Do(ctx,
			chromedp.Click(`nav a[href="/lines"]`),
			chromedp.WaitVisible(`a[href="/lines/1"]`),
			chromedp.Click(`a[href="/lines/1"]`),
			chromedp.WaitVisible(`#f-password`),
			chromedp.SendKeys(`#f-password`, secret),
			chromedp.Click(`form.settings button`),
			chromedp.WaitVisible(`.notice`),
			chromedp.Click(`nav a[href="/"]`),
			chromedp.WaitVisible(`tr[data-port="1"] .reg-state`),
		))
	}
	// The status page refreshes itself every second; the wait is bounded.
	waitReg := func(want string, d time.Duration) (string, string) {
		t.Helper()
		deadline := time.Now().Add(d)
		for {
			st, msg := text(`tr[data-port="1"] .reg-state`), text(`tr[data-port="1"] .reg-error`)
			if st == want {
				return st, msg
			}
			if time.Now().After(deadline) {
				t.Fatalf("port 1 shows %q (%q), want %q", st, msg, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	setPassword("wrong-password-9")
	_, msg := waitReg("failed", 20*time.Second)
	if msg == "" {
		t.Error("the failed registration shows no reason")
	}
	if s := text(`tr[data-port="2"] .reg-state`); s != "registered" {
		t.Errorf("port 2 shows %q: it should not have been touched", s)
	}
	if dir := os.Getenv("TIPRING_SCREENSHOTS"); dir != "" {
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		must(err)
		os.WriteFile(filepath.Join(dir, "registration-failed.png"), shot, 0o644)
	}
	setPassword("pw1001")
	if _, msg := waitReg("registered", 20*time.Second); msg != "" {
		t.Errorf("registered again but still shows %q", msg)
	}
	if g.started != started || !strings.Contains(text(`.uptime`), "s") {
		t.Error("the gateway restarted")
	}
}
