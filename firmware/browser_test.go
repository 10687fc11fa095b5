package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Debian's Chromium; the test fails on CI without it and
// skips elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: runs in the native pass")
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (Debian package chromium; `make deps` installs it)")
	}
	t.Skip("chromium is not installed")
	return ""
}

// newBrowser starts headless Chromium on a phone-sized window for one
// test, its whole session bounded by limit: the first Run's context must
// not carry a timeout (it would stop the browser), so a timer cancels it.
func newBrowser(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	bin := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(420, 900), // a phone's screen
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	watchdog := time.AfterFunc(limit, cancel)
	t.Cleanup(func() { watchdog.Stop(); cancel(); cancelAlloc() })
	return ctx
}

// browserHelpers returns must, which fails the test on an error, and text,
// the text of the element sel matches.
func browserHelpers(t *testing.T, ctx context.Context) (must func(error), text func(sel string) string) {
	must = func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	text = func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(sel))
		must(err)
		return v
	}
	return must, text
}

// TestBrowserFirstVisitAndPhone drives the web page in headless Chromium as a
// newcomer would after `make run`: the first visit asks for a password and
// refuses a weak one, then the status page shows the simulated phones; lifting
// the handset on phone 1 makes its line show off-hook and its earpiece meter
// show the dial tone.
func TestBrowserFirstVisitAndPhone(t *testing.T) {
	g := startGateway(t, "")
	ctx := newBrowser(t, 90*time.Second)

	base := "http://" + g.addr()
	must, text := browserHelpers(t, ctx)
	must(chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`input[name=password]`),
	))
	title, err := chromedp.Run(ctx, chromedp.Title())
	must(err)
	must(chromedp.Do(ctx,
		chromedp.SendKeys(`input[name=password]`, "password12"),
		chromedp.SendKeys(`input[name=confirm]`, "password12"),
		chromedp.Submit(`form`),
		chromedp.WaitVisible(`.error`),
	))
	if errText := text(`.error`); !strings.Contains(title, "Set the admin password") || !strings.Contains(errText, "Password not set") {
		t.Fatalf("title %q, error %q", title, errText)
	}
	if g.store.Get().Web.AdminPasswordHash != "" {
		t.Fatal("a weak password was saved")
	}

	must(chromedp.Do(ctx,
		chromedp.SendKeys(`input[name=password]`, "blue-Harbor-42"),
		chromedp.SendKeys(`input[name=confirm]`, "blue-Harbor-42"),
		chromedp.Submit(`form`),
		chromedp.WaitVisible(`section.phone[data-port="1"]`),
		chromedp.Click(`section.phone[data-port="1"] button[value=off]`),
		chromedp.WaitVisible(`section.phone[data-port="1"] button[value=on]`),
	))
	if g.store.Get().Web.AdminPasswordHash == "" {
		t.Fatal("the password was not saved")
	}
	// The page's own script refreshes the table and the meter from
	// /ui/state.json every second.
	deadline := time.Now().Add(10 * time.Second)
	for text(`tr[data-port="1"] .hook`) != "off" || text(`tr[data-port="1"] .state`) != "dialtone" {
		if time.Now().After(deadline) {
			t.Fatalf("line 1 shows %q/%q after lifting the handset", text(`tr[data-port="1"] .hook`), text(`tr[data-port="1"] .state`))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		level := text(`section.phone[data-port="1"] .level`)
		if v, err := strconv.Atoi(strings.TrimSuffix(level, " dBm0")); err == nil && v > -15 && v < -5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("earpiece meter shows %q, want the dial tone near −10 dBm0", level)
		}
		time.Sleep(200 * time.Millisecond)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(err)
	if dir := os.Getenv("TIPRING_SCREENSHOTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, "status.png"), shot, 0o644)
	}
}
