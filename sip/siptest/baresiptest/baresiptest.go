// Package baresiptest runs baresip, a SIP user agent this project did not
// write, headless on loopback as the far end of call tests.
//
// [Start] writes a configuration directory (one account, G.711, audio
// from a WAV file as the source — a 440 Hz tone unless [Config.Source]
// gives other samples — what it hears recorded to a file), starts
// /usr/bin/baresip on free ports of 127.0.0.1 and drives it through its
// ctrl_tcp module: [Peer.Command] sends a command ("dial", "accept",
// "hangup", …) and [Peer.WaitEvent] reads the JSON events it reports
// (CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED, …). The process is
// stopped, by its exact pid, when the test ends.
//
// baresip comes from Debian's baresip package. Without it, or under
// -short, tests using Start are skipped; when the environment variable CI
// is set a missing baresip fails the test instead.
package baresiptest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/dsp/wav"
	"github.com/tipring/tipring/sip/siptest/proctest"
)

// Binary is where Debian installs baresip.
const Binary = "/usr/bin/baresip"

// ModulePath is where Debian installs baresip's modules.
const ModulePath = "/usr/lib/baresip/modules"

// Bounds on waiting for baresip.
const (
	startTimeout = 10 * time.Second
	stopTimeout  = 5 * time.Second
)

// ErrNotInstalled means baresip or a module the harness needs is
// missing.
var ErrNotInstalled = errors.New("baresiptest: baresip is not installed (Debian package baresip)")

// Config describes the baresip to start.
type Config struct {
	// User is the account's user; default "peer".
	User string
	// AutoAnswer makes baresip answer incoming calls at once.
	AutoAnswer bool
	// Transport is the account's transport, "udp" (default), "tcp" or
	// "tls"; with "tls" CertFile (a PEM file with certificate and key)
	// is baresip's server certificate and CAFile its trust anchor.
	Transport        string
	CertFile, CAFile string
	// Registrar, when set (host:port), makes the account's address of
	// record sip:User@Registrar and registers it there every minute
	// with Password for digest authentication.
	Registrar, Password string
	// MediaEnc is the account's media encryption, e.g. "srtp-mand" for
	// RFC 4568 SRTP in RTP/SAVP offers and answers; empty means none.
	MediaEnc string
	// Source is the audio baresip sends in its calls, 8 kHz mono
	// samples played once from the start of each call; empty means
	// DefaultSource.
	Source []int16
}

// DefaultSource returns the audio baresip sends unless Config.Source
// says otherwise: 30 s of a 440 Hz sine of peak amplitude 8000.
func DefaultSource() []int16 {
	x := make([]int16, 30*8000)
	for i := range x {
		x[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	return x
}

// Event is one event baresip reported.
type Event struct {
	Class     string `json:"class"`
	Type      string `json:"type"`
	Param     string `json:"param"`
	PeerURI   string `json:"peeruri"`
	ID        string `json:"id"`
	Direction string `json:"direction"`
}

// Peer is a running baresip.
type Peer struct {
	// SIPAddr is where it listens for SIP (UDP and TCP; TLS on the
	// next port when configured).
	SIPAddr string
	// URI is its account's address: sip:User@SIPAddr.
	URI string
	// Dir is its configuration directory.
	Dir string

	t     testing.TB
	cmd   *exec.Cmd
	conn  net.Conn
	out   *proctest.Output
	resps chan map[string]any

	// evMu guards the events baresip reported, all kept in order;
	// WaitEvent consumes them from evNext on. evSignal is closed and
	// replaced whenever one arrives or the connection ends (evDone).
	evMu     sync.Mutex
	evLog    []Event
	evNext   int
	evDone   bool
	evSignal chan struct{}

	// mu serialises commands; token numbers them.
	mu     sync.Mutex
	token  int
	waited chan struct{}
}

// Start starts baresip for the test and stops it when the test ends. It
// skips the test under -short or when baresip is not installed (failing
// instead when CI is set).
func Start(t testing.TB, cfg Config) *Peer {
	t.Helper()
	if testing.Short() {
		t.Skip("baresiptest: real-peer test skipped under -short")
	}
	if _, err := os.Stat(Binary); err != nil {
		missing(t)
	}
	if _, err := os.Stat(filepath.Join(ModulePath, "ctrl_tcp.so")); err != nil {
		missing(t)
	}
	if cfg.User == "" {
		cfg.User = "peer"
	}
	if cfg.Transport == "" {
		cfg.Transport = "udp"
	}
	var lastErr error
	for range 3 {
		p, err := start(t, cfg)
		if err == nil {
			return p
		}
		lastErr = err
	}
	t.Fatal(lastErr)
	return nil
}

func missing(t testing.TB) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(ErrNotInstalled)
	}
	t.Skip(ErrNotInstalled)
}

func start(t testing.TB, cfg Config) (*Peer, error) {
	dir := t.TempDir()
	sipPort, err := proctest.FreePorts(2) // SIP, and TLS on the next
	if err != nil {
		return nil, err
	}
	ctrlPort, err := proctest.FreePorts(1)
	if err != nil {
		return nil, err
	}
	rtpPort, err := proctest.FreePorts(3) // an even RTP port and its RTCP port
	if err != nil {
		return nil, err
	}
	rtpPort = (rtpPort + 1) &^ 1
	var conf strings.Builder
	fmt.Fprintf(&conf, "sip_listen\t127.0.0.1:%d\n", sipPort)
	if cfg.Transport == "tls" {
		fmt.Fprintf(&conf, "sip_certificate\t%s\nsip_cafile\t%s\n", cfg.CertFile, cfg.CAFile)
	}
	// baresip 1.0's aufile only plays files; the sndfile filter records
	// the decoded audio instead, into snd_path.
	fmt.Fprintf(&conf, "snd_path\t%s\n", dir)
	tone := filepath.Join(dir, "tone.wav")
	src := cfg.Source
	if len(src) == 0 {
		src = DefaultSource()
	}
	if err := os.WriteFile(tone, wav.Bytes(wav.Audio{Rate: 8000, Samples: src}), 0o600); err != nil {
		return nil, err
	}
	fmt.Fprintf(&conf, "audio_source\taufile,%s\n", tone)
	fmt.Fprintf(&conf, "audio_alert\taufile,%s\n", filepath.Join(dir, "alert.wav"))
	fmt.Fprintf(&conf, "module_path\t%s\n", ModulePath)
	mods := []string{"g711.so", "aufile.so", "sndfile.so", "ctrl_tcp.so", "menu.so"}
	if cfg.MediaEnc != "" {
		mods = append(mods, "srtp.so")
	}
	for _, m := range mods {
		fmt.Fprintf(&conf, "module\t%s\n", m)
	}
	fmt.Fprintf(&conf, "module_app\taccount.so\n")
	fmt.Fprintf(&conf, "ctrl_tcp_listen\t127.0.0.1:%d\n", ctrlPort)
	fmt.Fprintf(&conf, "rtp_ports\t%d-%d\n", rtpPort, rtpPort+20)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf.String()), 0o600); err != nil {
		return nil, err
	}
	host := "127.0.0.1:" + strconv.Itoa(sipPort)
	acc := fmt.Sprintf("<sip:%s@%s;transport=%s>;regint=0", cfg.User, host, cfg.Transport)
	if cfg.Registrar != "" {
		acc = fmt.Sprintf("<sip:%s@%s;transport=%s>;auth_pass=%s;regint=60", cfg.User, cfg.Registrar, cfg.Transport, cfg.Password)
	}
	if cfg.MediaEnc != "" {
		acc += ";mediaenc=" + cfg.MediaEnc
	}
	if cfg.AutoAnswer {
		acc += ";answermode=auto"
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(acc+"\n"), 0o600); err != nil {
		return nil, err
	}
	p := &Peer{
		SIPAddr:  host,
		URI:      "sip:" + cfg.User + "@" + host,
		Dir:      dir,
		t:        t,
		out:      &proctest.Output{},
		resps:    make(chan map[string]any, 16),
		waited:   make(chan struct{}),
		evSignal: make(chan struct{}),
	}
	if cfg.Transport != "udp" {
		p.URI += ";transport=" + cfg.Transport
	}
	if cfg.Transport == "tls" {
		p.SIPAddr = "127.0.0.1:" + strconv.Itoa(sipPort+1)
		p.URI = "sip:" + cfg.User + "@" + p.SIPAddr + ";transport=tls"
	}
	p.cmd = exec.Command(Binary, "-f", dir, "-n", "127.0.0.1")
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	p.cmd.Stdin = nil
	proctest.Prepare(p.cmd)
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("baresiptest: start: %w", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.waited) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("baresip output:\n%s", p.out.String())
		}
	})
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(ctrlPort), time.Second)
		if err == nil && strings.Contains(p.out.String(), "baresip is ready") {
			p.conn = c
			break
		}
		if c != nil {
			c.Close()
		}
		select {
		case <-p.waited:
			return nil, fmt.Errorf("baresiptest: baresip exited during start-up:\n%s", p.out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("baresiptest: baresip not ready within %v:\n%s", startTimeout, p.out.String())
		}
	}
	go p.read()
	return p, nil
}

// stop ends the process: SIGTERM, then SIGKILL after a grace period.
func (p *Peer) stop() {
	if p.conn != nil {
		p.conn.Close()
	}
	proctest.Stop(p.t, "baresiptest", p.cmd, p.waited, 2*time.Second, stopTimeout)
}

// read parses the netstrings of ctrl_tcp: responses and events.
func (p *Peer) read() {
	r := bufio.NewReader(p.conn)
	for {
		lenStr, err := r.ReadString(':')
		if err != nil {
			p.closeEvents()
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(lenStr[:len(lenStr)-1]))
		if err != nil || n < 0 || n > 1<<20 {
			p.closeEvents()
			return
		}
		buf := make([]byte, n+1)
		if _, err := io.ReadFull(r, buf); err != nil {
			p.closeEvents()
			return
		}
		var m map[string]any
		if err := json.Unmarshal(buf[:n], &m); err != nil {
			continue
		}
		if m["event"] == true {
			var ev Event
			_ = json.Unmarshal(buf[:n], &ev)
			p.evMu.Lock()
			p.evLog = append(p.evLog, ev)
			close(p.evSignal)
			p.evSignal = make(chan struct{})
			p.evMu.Unlock()
			continue
		}
		select {
		case p.resps <- m:
		default:
		}
	}
}

// Command sends a ctrl_tcp command and returns its response data.
func (p *Peer) Command(command, params string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.token++
	tok := strconv.Itoa(p.token)
	body, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": tok})
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d:%s,", len(body), body)
	if _, err := p.conn.Write(b.Bytes()); err != nil {
		return "", fmt.Errorf("baresiptest: %s: %w", command, err)
	}
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m := <-p.resps:
			if m["token"] != tok {
				continue
			}
			data, _ := m["data"].(string)
			if ok, _ := m["ok"].(bool); !ok {
				return data, fmt.Errorf("baresiptest: %s %s failed: %s", command, params, data)
			}
			return data, nil
		case <-timeout:
			return "", fmt.Errorf("baresiptest: %s: no response", command)
		}
	}
}

func (p *Peer) closeEvents() {
	p.evMu.Lock()
	defer p.evMu.Unlock()
	if !p.evDone {
		p.evDone = true
		close(p.evSignal)
	}
}

// WaitEvent returns the next event of the given type within d, skipping
// (and consuming) others.
func (p *Peer) WaitEvent(typ string, d time.Duration) (Event, error) {
	timeout := time.After(d)
	for {
		p.evMu.Lock()
		for p.evNext < len(p.evLog) {
			ev := p.evLog[p.evNext]
			p.evNext++
			if ev.Type == typ {
				p.evMu.Unlock()
				return ev, nil
			}
		}
		done, signal := p.evDone, p.evSignal
		p.evMu.Unlock()
		if done {
			return Event{}, fmt.Errorf("baresiptest: control connection closed waiting for %s", typ)
		}
		select {
		case <-signal:
		case <-timeout:
			return Event{}, fmt.Errorf("baresiptest: no %s event within %v", typ, d)
		}
	}
}

// Events returns every event baresip reported so far of the given type
// (all of them when typ is ""), in order, whether WaitEvent consumed
// them or not.
func (p *Peer) Events(typ string) []Event {
	p.evMu.Lock()
	defer p.evMu.Unlock()
	var out []Event
	for _, ev := range p.evLog {
		if typ == "" || ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// HeardFile returns the WAV file (8 kHz mono s16) of the audio baresip
// decoded in its last call, as its sndfile filter recorded it, or "" when
// there is none yet.
func (p *Peer) HeardFile() string {
	m, _ := filepath.Glob(filepath.Join(p.Dir, "dump-*-dec.wav"))
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1]
}

// SentFile returns the WAV file (8 kHz mono s16) of the audio baresip
// encoded and sent in its last call, as its sndfile filter recorded it,
// or "" when there is none yet.
func (p *Peer) SentFile() string {
	m, _ := filepath.Glob(filepath.Join(p.Dir, "dump-*-enc.wav"))
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1]
}

// Output returns what baresip printed so far.
func (p *Peer) Output() string { return p.out.String() }
