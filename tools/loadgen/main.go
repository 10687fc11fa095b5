// Command loadgen measures how far one board scales: it starts Kamailio
// (registrar and proxy, TLS, a throwaway CA) and the gateway binary on the
// simulated board with -lines ports registered as 1001…, sets up
// lines/2 calls from port 2k−1 to port 2k through Kamailio with the sim
// API (off-hook, dial, answer), plays a tone into every mouthpiece, holds
// the calls for -duration and reports the gateway's CPU time per call,
// its memory, PCM underruns, RTP send jitter and loss, and the calls
// established.
//
//	go run ./tools/loadgen -lines 64 -duration 60s
//	go run ./tools/loadgen -peer baresip -lines 16 -duration 30s
//
// -peer baresip runs the same G.711 load through baresip instead (one
// process per user agent, pairs calling each other through the same
// Kamailio, the audio from a WAV file) and reports its CPU time per call
// measured the same way, for comparison (tools/loadgen/compare.sh runs
// both).
//
// The send jitter is each call's sendIntervalP50Ms and sendJitterP99Ms in
// /api/status; an older gateway without them has it reported as missing.
//
// It is a program, not a test: the kamailiotest harness wants a
// testing.TB, so this starts its own small Kamailio (kamailio.go).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tipring/tipring/dsp/wav"
	"github.com/tipring/tipring/firmware/passwd"
	"github.com/tipring/tipring/sip/siptest/testca"
)

const adminPassword = "loadgen admin password"

func main() {
	lines := flag.Int("lines", 64, "simulated lines (even, 2…64): lines/2 calls")
	duration := flag.Duration("duration", 60*time.Second, "how long the calls are held while measuring")
	peer := flag.String("peer", "tipring", "what carries the calls: tipring (the gateway) or baresip")
	gatewayBin := flag.String("gateway", "", "gateway binary (default: go build ./firmware into a temporary directory)")
	srtp := flag.String("srtp", "off", "the gateway's sip.srtp: off, optional or required")
	ptime := flag.Int("ptime", 20, "packetisation time, ms")
	keep := flag.Bool("keep", false, "keep the temporary directory (configurations, logs)")
	jsonOut := flag.Bool("json", false, "print the result as JSON")
	flag.Parse()
	if *lines < 2 || *lines%2 != 0 || *lines > 64 {
		fatalf("-lines must be even, 2…64")
	}
	dir, err := os.MkdirTemp("", "loadgen-")
	if err != nil {
		fatalf("%v", err)
	}
	if !*keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "loadgen: files in %s\n", dir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ca, err := testca.New("loadgen CA")
	if err != nil {
		fatalf("%v", err)
	}
	kam, err := startKamailio(filepath.Join(mkdir(dir, "kamailio")), ca, 4)
	if err != nil {
		fatalf("kamailio: %v", err)
	}
	defer kam.stop()

	var res *result
	switch *peer {
	case "tipring":
		res, err = runGateway(ctx, dir, kam, *gatewayBin, *lines, *duration, *srtp, *ptime)
	case "baresip":
		res, err = runBaresip(ctx, dir, kam, *lines, *duration)
	default:
		err = fmt.Errorf("-peer %q: want tipring or baresip", *peer)
	}
	if res != nil {
		res.KamailioCPU = sumCPU(kam.pids()) // whole run, for scale
		if *jsonOut {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(res)
		} else {
			res.print(os.Stdout)
		}
	}
	if err != nil {
		kam.stop()
		fatalf("%v", err)
	}
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", a...)
	os.Exit(1)
}

func mkdir(parts ...string) string {
	p := filepath.Join(parts...)
	if err := os.MkdirAll(p, 0o700); err != nil {
		fatalf("%v", err)
	}
	return p
}

// result is what a run measured.
type result struct {
	Peer             string  `json:"peer"`
	Lines            int     `json:"lines"`
	CallsWanted      int     `json:"callsWanted"`
	CallsEstablished int     `json:"callsEstablished"`
	CallsFailed      int     `json:"callsFailed"`
	CallsDropped     int     `json:"callsDroppedDuringHold"`
	HoldSeconds      float64 `json:"holdSeconds"`
	CPUSeconds       float64 `json:"cpuSeconds"`
	// CPUPerCall is CPU seconds per call per second of call: the share
	// of one core each call costs.
	CPUPerCall    float64  `json:"cpuPerCallPerSecond"`
	RSSKB         int      `json:"vmRSSkB"`
	RSSMaxKB      int      `json:"vmRSSMaxDuringHoldkB"`
	HWMKB         int      `json:"vmHWMkB"`
	Underruns     uint64   `json:"pcmUnderrunsDuringHold"`
	UnderrunsAll  uint64   `json:"pcmUnderrunsTotal"`
	IntervalP50MS float64  `json:"sendIntervalP50Ms"` // median over lines
	JitterP99MS   float64  `json:"sendJitterP99Ms"`   // worst line
	JitterP99Med  float64  `json:"sendJitterP99MedianMs"`
	JitterMissing bool     `json:"sendJitterMissing,omitempty"`
	Received      uint64   `json:"packetsReceived"`
	Lost          int64    `json:"packetsLost"`
	LossPercent   float64  `json:"lossPercent"`
	LoadBefore    string   `json:"loadavgBefore"`
	LoadAfter     string   `json:"loadavgAfter"`
	KamailioCPU   float64  `json:"kamailioCpuSecondsWholeRun"`
	Notes         []string `json:"notes,omitempty"`
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "peer %s: %d lines, %d calls wanted, %d established, %d failed, %d dropped during the hold\n",
		r.Peer, r.Lines, r.CallsWanted, r.CallsEstablished, r.CallsFailed, r.CallsDropped)
	fmt.Fprintf(w, "hold %.1f s: CPU %.2f s = %.1f %% of one core; %.4f CPU s per call per s (%.2f %% of a core per call)\n",
		r.HoldSeconds, r.CPUSeconds, 100*r.CPUSeconds/r.HoldSeconds, r.CPUPerCall, 100*r.CPUPerCall)
	fmt.Fprintf(w, "memory: VmRSS %.1f MB at the end, %.1f MB max during the hold, VmHWM %.1f MB\n",
		float64(r.RSSKB)/1024, float64(r.RSSMaxKB)/1024, float64(r.HWMKB)/1024)
	if r.Peer == "tipring" {
		fmt.Fprintf(w, "PCM underruns: %d during the hold (%d since start)\n", r.Underruns, r.UnderrunsAll)
		if r.JitterMissing {
			fmt.Fprintf(w, "RTP send jitter: not reported by this gateway (its /api/status has no sendJitterP99Ms)\n")
		} else {
			fmt.Fprintf(w, "RTP send interval p50 %.2f ms (median of lines); send jitter p99 %.2f ms worst line, %.2f ms median line\n",
				r.IntervalP50MS, r.JitterP99MS, r.JitterP99Med)
		}
		fmt.Fprintf(w, "RTP received %d, lost %d (%.3f %%)\n", r.Received, r.Lost, r.LossPercent)
	}
	fmt.Fprintf(w, "Kamailio CPU, whole run: %.2f s\n", r.KamailioCPU)
	fmt.Fprintf(w, "load average before: %s; after: %s\n", r.LoadBefore, r.LoadAfter)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// The gateway run.

type gatewayRun struct {
	base   string
	client *http.Client
	cmd    *exec.Cmd
	log    *lockedWriter
	logBuf *bytes.Buffer
}

func runGateway(ctx context.Context, dir string, kam *kamailio, bin string, n int, hold time.Duration, srtp string, ptime int) (*result, error) {
	gdir := mkdir(dir, "gateway")
	if bin == "" {
		bin = filepath.Join(gdir, "tipring")
		build := exec.Command("go", "build", "-o", bin, "./firmware")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("go build ./firmware (run loadgen from the module root): %w", err)
		}
	}
	hash, err := passwd.Hash(adminPassword)
	if err != nil {
		return nil, err
	}
	webPort, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(gdir, "ca.pem"), mustRead(kam.CAFile), 0o600); err != nil {
		return nil, err
	}
	var doc strings.Builder
	fmt.Fprintf(&doc, `version = 1
[board]
name = "sim"
ports = %d
[web]
listen = "127.0.0.1:%d"
admin_password_hash = %q
[sip]
listen = "127.0.0.1:0"
registrar = %q
transport = "tls"
ca_file = "ca.pem"
srtp = %q
ptime_ms = %d
register_expires_s = 3600
mwi_subscribe = false
[region]
country = "us"
`, n, webPort, hash, kam.TLSAddr, srtp, ptime)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&doc, "[[line]]\nport = %d\nuser = \"%d\"\npassword = \"pw%d\"\ndisplay_name = \"LINE %d\"\n", i, 1000+i, 1000+i, i)
	}
	cfg := filepath.Join(gdir, "tipring.toml")
	if err := os.WriteFile(cfg, []byte(doc.String()), 0o600); err != nil {
		return nil, err
	}
	jar, _ := cookiejar.New(nil)
	g := &gatewayRun{base: fmt.Sprintf("http://127.0.0.1:%d", webPort), client: &http.Client{Jar: jar, Timeout: 10 * time.Second}, logBuf: new(bytes.Buffer)}
	g.log = &lockedWriter{w: g.logBuf}
	g.cmd = exec.Command(bin, "-config", cfg, "-log-level", "warn")
	g.cmd.Dir = gdir
	g.cmd.Stdout, g.cmd.Stderr = g.log, g.log
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := g.cmd.Start(); err != nil {
		return nil, err
	}
	pid := g.cmd.Process.Pid
	exited := make(chan struct{})
	go func() { _ = g.cmd.Wait(); close(exited) }()
	defer func() {
		_ = g.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = g.cmd.Process.Kill()
			<-exited
		}
		_ = os.WriteFile(filepath.Join(gdir, "gateway.log"), []byte(g.logString()), 0o600)
	}()
	start := time.Now()
	res := &result{Peer: "tipring", Lines: n, CallsWanted: n / 2, LoadBefore: loadavg()}

	// Registered?
	if err := g.login(ctx, 20*time.Second); err != nil {
		return nil, fmt.Errorf("%w\ngateway log:\n%s", err, g.logString())
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := g.status()
		if err == nil {
			reg := 0
			for _, l := range st.Lines {
				if l.Registration == "registered" {
					reg++
				}
			}
			if reg == n {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("%d of %d lines registered after 60 s\ngateway log:\n%s", reg, n, g.logString())
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-exited:
			return nil, fmt.Errorf("gateway exited\n%s", g.logString())
		case <-time.After(500 * time.Millisecond):
		}
	}
	fmt.Fprintf(os.Stderr, "loadgen: %d lines registered %.1f s after start\n", n, time.Since(start).Seconds())

	// Calls, a few at a time.
	ok := make([]bool, n/2)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for k := range n / 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			caller, callee := 2*k+1, 2*k+2
			if err := g.placeCall(ctx, caller, callee); err != nil {
				fmt.Fprintf(os.Stderr, "loadgen: call %d → %d: %v\n", caller, callee, err)
				return
			}
			ok[k] = true
		}()
	}
	wg.Wait()
	time.Sleep(2 * time.Second) // the last answers reach the callers
	st, err := g.status()
	if err != nil {
		return nil, err
	}
	up := connectedPairs(st)
	for k := range up {
		if up[k] && ok[k] {
			res.CallsEstablished++
		}
	}
	res.CallsFailed = res.CallsWanted - res.CallsEstablished
	fmt.Fprintf(os.Stderr, "loadgen: %d of %d calls up; holding %v\n", res.CallsEstablished, res.CallsWanted, hold)

	// Tones into every mouthpiece, renewed every 2 s (queuing the whole
	// hold at once would put megabytes of test audio into the gateway's
	// memory: the sim phone's mouthpiece queue).
	talkCtx, stopTalk := context.WithCancel(ctx)
	defer stopTalk()
	talkDone := make(chan struct{})
	go func() {
		defer close(talkDone)
		chunks := map[int][]byte{}
		for p := 1; p <= n; p++ {
			f := 1000.0
			if p%2 == 0 {
				f = 600
			}
			chunks[p] = toneWAV(f, 2*time.Second)
		}
		t := time.NewTicker(1950 * time.Millisecond)
		defer t.Stop()
		for {
			for p := 1; p <= n; p++ {
				_ = g.post(fmt.Sprintf("/api/sim/lines/%d/say", p), "audio/wav", chunks[p])
			}
			select {
			case <-talkCtx.Done():
				return
			case <-t.C:
			}
		}
	}()
	time.Sleep(time.Second)
	before, err := g.status()
	if err != nil {
		return nil, err
	}
	cpu0, t0 := cpuSeconds(pid), time.Now()
	ticker := time.NewTicker(time.Second)
	for end := t0.Add(hold); time.Now().Before(end); {
		select {
		case <-ctx.Done():
			ticker.Stop()
			stopTalk()
			return nil, ctx.Err()
		case <-exited:
			return nil, fmt.Errorf("gateway exited during the hold\n%s", g.logString())
		case <-ticker.C:
			rss, _ := memKB(pid)
			res.RSSMaxKB = max(res.RSSMaxKB, rss)
		}
	}
	ticker.Stop()
	cpu1, t1 := cpuSeconds(pid), time.Now()
	res.RSSKB, res.HWMKB = memKB(pid)
	stopTalk()
	<-talkDone
	after, err := g.status()
	if err != nil {
		return nil, err
	}
	res.LoadAfter = loadavg()
	res.HoldSeconds = t1.Sub(t0).Seconds()
	res.CPUSeconds = cpu1 - cpu0
	if res.CallsEstablished > 0 {
		res.CPUPerCall = res.CPUSeconds / float64(res.CallsEstablished) / res.HoldSeconds
	}
	upAfter := connectedPairs(after)
	for k := range upAfter {
		if up[k] && ok[k] && !upAfter[k] {
			res.CallsDropped++
		}
	}
	var p50s, p99s []float64
	for i, l := range after.Lines {
		res.UnderrunsAll += l.Underruns
		if i < len(before.Lines) {
			res.Underruns += l.Underruns - before.Lines[i].Underruns
		}
		if l.Call == nil {
			continue
		}
		res.Received += l.Call.Received
		res.Lost += int64(l.Call.Lost)
		if l.Call.SendIntervalP50MS == nil {
			res.JitterMissing = true
			continue
		}
		p50s = append(p50s, *l.Call.SendIntervalP50MS)
		p99s = append(p99s, *l.Call.SendJitterP99MS)
	}
	if res.Received > 0 {
		res.LossPercent = 100 * float64(res.Lost) / float64(res.Received+uint64(max(res.Lost, 0)))
	}
	if len(p99s) > 0 {
		slices.Sort(p50s)
		slices.Sort(p99s)
		res.IntervalP50MS = p50s[len(p50s)/2]
		res.JitterP99MS = p99s[len(p99s)-1]
		res.JitterP99Med = p99s[len(p99s)/2]
	}
	res.Notes = append(res.Notes,
		"VmHWM includes the one Argon2id verification of the admin password at login (19 MiB working memory)",
		"the sim phones' mouthpiece queues (2 s of audio per port) are in the gateway's memory too",
		"the send-interval histograms span each whole call, set-up included")
	return res, nil
}

func mustRead(p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		fatalf("%v", err)
	}
	return b
}

func (g *gatewayRun) logString() string {
	g.log.mu.Lock()
	defer g.log.mu.Unlock()
	s := g.logBuf.String()
	if len(s) > 20000 {
		s = "…" + s[len(s)-20000:]
	}
	return s
}

// login gets a session cookie with one password check, so that the
// status polls do not each run Argon2id (as HTTP Basic would); Basic is
// the fallback.
func (g *gatewayRun) login(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		resp, err := g.client.Get(g.base + "/api/sim/lines")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("web listener did not answer within %v: %w", within, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	tok := strings.Repeat("ab", 20)
	u, _ := url.Parse(g.base)
	g.client.Jar.SetCookies(u, []*http.Cookie{{Name: "tipring_csrf", Value: tok, Path: "/"}})
	form := url.Values{"password": {adminPassword}, "csrf": {tok}}
	req, _ := http.NewRequest("POST", g.base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", g.base)
	c := *g.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
	}
	return nil
}

type lineStatus struct {
	Port         int    `json:"port"`
	Hook         string `json:"hook"`
	State        string `json:"state"`
	Registration string `json:"registration"`
	Underruns    uint64 `json:"pcmUnderruns"`
	Call         *struct {
		State             string   `json:"state"`
		Lost              int32    `json:"lost"`
		Received          uint64   `json:"packetsReceived"`
		Sent              uint64   `json:"packetsSent"`
		SendIntervalP50MS *float64 `json:"sendIntervalP50Ms"`
		SendJitterP99MS   *float64 `json:"sendJitterP99Ms"`
	} `json:"call"`
}

type statusBody struct {
	Lines []lineStatus `json:"lines"`
}

func (g *gatewayRun) status() (*statusBody, error) {
	req, _ := http.NewRequest("GET", g.base+"/api/status", nil)
	if !g.hasSession() {
		req.SetBasicAuth("admin", adminPassword)
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("/api/status: %s %s", resp.Status, b)
	}
	var st statusBody
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, err
	}
	return &st, nil
}

func (g *gatewayRun) hasSession() bool {
	u, _ := url.Parse(g.base)
	for _, c := range g.client.Jar.Cookies(u) {
		if c.Name == "tipring_session" {
			return true
		}
	}
	return false
}

func (g *gatewayRun) post(path, ctype string, body []byte) error {
	resp, err := g.client.Post(g.base+path, ctype, bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("POST %s: %s %s", path, resp.Status, bytes.TrimSpace(b))
	}
	return nil
}

type simLine struct {
	Port    int    `json:"port"`
	Hook    string `json:"hook"`
	Ringing bool   `json:"ringing"`
}

func (g *gatewayRun) simLines() ([]simLine, error) {
	resp, err := g.client.Get(g.base + "/api/sim/lines")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var ls []simLine
	return ls, json.NewDecoder(resp.Body).Decode(&ls)
}

// placeCall makes caller dial callee's number and callee answer when it
// rings.
func (g *gatewayRun) placeCall(ctx context.Context, caller, callee int) error {
	if err := g.post(fmt.Sprintf("/api/sim/lines/%d/hook", caller), "application/json", []byte(`{"state":"off"}`)); err != nil {
		return err
	}
	time.Sleep(400 * time.Millisecond) // dial tone
	digits := fmt.Sprintf(`{"digits":"%d#","method":"dtmf"}`, 1000+callee)
	if err := g.post(fmt.Sprintf("/api/sim/lines/%d/dial", caller), "application/json", []byte(digits)); err != nil {
		return err
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ls, err := g.simLines()
		if err == nil && callee <= len(ls) && ls[callee-1].Ringing {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("callee did not ring within 20 s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return g.post(fmt.Sprintf("/api/sim/lines/%d/hook", callee), "application/json", []byte(`{"state":"off"}`))
}

// connectedPairs reports, per pair, whether both ports are in a call.
func connectedPairs(st *statusBody) []bool {
	up := make([]bool, len(st.Lines)/2)
	for k := range up {
		a, b := st.Lines[2*k], st.Lines[2*k+1]
		up[k] = a.State == "connected" && b.State == "connected"
	}
	return up
}

// toneWAV is d of f Hz at about −12 dBm0.
func toneWAV(f float64, d time.Duration) []byte {
	n := int(d.Seconds() * 8000)
	x := make([]int16, n)
	for i := range x {
		x[i] = int16(2300 * math.Sin(2*math.Pi*f*float64(i)/8000))
	}
	var b bytes.Buffer
	_ = wav.Encode(&b, wav.Audio{Rate: 8000, Samples: x})
	return b.Bytes()
}
