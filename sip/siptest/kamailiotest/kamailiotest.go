// Package kamailiotest runs a real Kamailio SIP registrar on loopback for
// tests of the SIP agent.
//
// [Start] writes a Kamailio configuration from a template into a fresh
// temporary directory, together with a TLS server certificate issued by a
// throwaway CA, starts /usr/sbin/kamailio in the foreground on random free
// ports of 127.0.0.1 (UDP and TCP on one port, TLS on another), waits a
// bounded time until it answers OPTIONS, and stops exactly that process
// when the test ends. The registrar keeps its location table in memory and
// authenticates users from a fixed table with digest authentication; each
// [User] can be given a scripted misbehaviour (rejection, 423, 503 with
// Retry-After, 407 instead of 401) to exercise the client's error paths.
// An INVITE for a registered user is relayed statefully to its contact,
// over any transport (TLS included), with this proxy record-routed, so
// that the requests of the dialog it makes come back through it and follow
// their Route headers; CANCEL and ACK follow their transaction. Other
// requests for a registered user are forwarded, statelessly, to its
// contact. With [Config.ProxyTo] the instance is instead a stateless
// outbound proxy that checks the pre-loaded Route. A running server can be
// restarted on the same ports ([Server.Restart]) or hung and resumed
// ([Server.Pause], [Server.Resume]) to test failover and flow recovery.
//
// Kamailio comes from Debian's kamailio and kamailio-tls-modules packages.
// Without them, or under -short, tests using Start are skipped; when the
// environment variable CI is set a missing Kamailio fails the test instead.
package kamailiotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/tipring/tipring/sip/siptest/proctest"
	"github.com/tipring/tipring/sip/siptest/testca"
)

// Binary is where Debian installs Kamailio.
const Binary = "/usr/sbin/kamailio"

// kamcmd is Kamailio's RPC command line tool, in the same package.
const kamcmd = "/usr/sbin/kamcmd"

// Bounds on waiting for the server.
const (
	startTimeout = 15 * time.Second
	// termTimeout is the grace after SIGTERM; Kamailio keeps nothing worth
	// a longer wait and can linger over open TLS connections.
	termTimeout = time.Second
	stopTimeout = 5 * time.Second
	startTries  = 3
)

// Errors reported by the harness.
var (
	// ErrNotInstalled means Kamailio or its TLS module is missing.
	ErrNotInstalled = errors.New("kamailiotest: kamailio with the tls module is not installed (Debian packages kamailio, kamailio-tls-modules)")
	// ErrBadName means a user name or password holds characters the
	// generated configuration cannot quote.
	ErrBadName = errors.New("kamailiotest: user names and passwords may hold only letters, digits, '.', '_' and '-'")
	// ErrExited means Kamailio exited before it answered.
	ErrExited = errors.New("kamailiotest: kamailio exited during start-up")
)

//go:embed kamailio.cfg.tmpl tls.cfg.tmpl
var templates embed.FS

var safe = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// User is one subscriber in the registrar's table, with optional scripted
// behaviour. Zero values mean a well-behaved registrar.
type User struct {
	// Name is the user part of the address of record and the
	// authentication user name.
	Name string
	// Password is the digest password.
	Password string
	// ProxyAuth makes the registrar challenge with 407 and
	// Proxy-Authenticate instead of 401 and WWW-Authenticate.
	ProxyAuth bool
	// Reject, when non-zero, is the final status answered to every
	// REGISTER for this user (e.g. 403), before authentication.
	Reject int
	// MinExpires, when non-zero, makes REGISTERs whose Expires header is
	// below it fail with 423 and this Min-Expires.
	MinExpires int
	// Unavailable answers this many first REGISTERs with 503.
	Unavailable int
	// RetryAfter is the Retry-After value, in seconds, of those 503s.
	RetryAfter int
}

// Config describes the registrar to start.
type Config struct {
	// Users is the subscriber table.
	Users []User
	// Alias is a domain the registrar treats as its own besides
	// 127.0.0.1 (optional).
	Alias string
	// Algorithm is the digest algorithm challenged with: "" (MD5, not
	// named in the challenge), "MD5" or "SHA-256".
	Algorithm string
	// NoQop makes challenges carry no qop (RFC 2069 style digest).
	NoQop bool
	// ForbidBadPassword answers a wrong password with 403 instead of a
	// fresh 401 challenge.
	ForbidBadPassword bool
	// NonceExpire is the nonce lifetime in seconds (default 300).
	NonceExpire int
	// MinExpires and MaxExpires bound the registration interval the
	// registrar grants, in seconds (defaults 10 and 3600).
	MinExpires, MaxExpires int
	// CA issues the server certificate; a new CA is made when nil.
	CA *testca.CA
	// RequireClientCert makes the TLS listener demand a client
	// certificate issued by CA.
	RequireClientCert bool
	// Debug is Kamailio's log level (default 2, -5…3).
	Debug int
	// ProxyTo, when set (host:port), makes this Kamailio a stateless
	// outbound proxy instead of a registrar: it answers 403 to a REGISTER
	// whose first Route header does not name it with the lr parameter,
	// logs the Request-URI and Route, removes the Route and forwards the
	// request over UDP to ProxyTo.
	ProxyTo string
}

// Server is a running Kamailio.
type Server struct {
	// UDPAddr, TCPAddr and TLSAddr are the listening addresses, host:port.
	UDPAddr, TCPAddr, TLSAddr string
	// CA is the authority that issued the server certificate.
	CA *testca.CA
	// CAFile is the path of CA's certificate in PEM form.
	CAFile string
	// Dir is the server's private temporary directory.
	Dir string

	log     *proctest.Output
	cfgFile string
	runDir  string

	mu   sync.Mutex
	proc *process
}

// process is one run of the kamailio binary.
type process struct {
	cmd    *exec.Cmd
	waited chan struct{}
	once   sync.Once
	err    error
}

type tmplData struct {
	Config
	Port, TLSPort int
	ModulePath    string
	Dir           string
	Secret        string
}

// Available reports whether Kamailio with the TLS module is installed, and
// returns its module directory.
func Available() (string, error) {
	if _, err := os.Stat(Binary); err != nil {
		return "", ErrNotInstalled
	}
	for _, pattern := range []string{"/usr/lib/*/kamailio/modules", "/usr/lib/kamailio/modules", "/usr/lib64/kamailio/modules"} {
		dirs, _ := filepath.Glob(pattern)
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, "tls.so")); err == nil {
				return d, nil
			}
		}
	}
	return "", ErrNotInstalled
}

// Start starts Kamailio for the test and arranges for it to be stopped
// when the test ends. It skips the test under -short or when Kamailio is
// not installed (failing instead when CI is set in the environment).
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("kamailiotest: real-peer test skipped under -short")
	}
	modules, err := Available()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	for _, u := range cfg.Users {
		if !safe.MatchString(u.Name) || !safe.MatchString(u.Password) {
			t.Fatalf("%v: %q", ErrBadName, u.Name)
		}
	}
	if cfg.ProxyTo != "" {
		if _, _, err := net.SplitHostPort(cfg.ProxyTo); err != nil || !safe.MatchString(strings.ReplaceAll(cfg.ProxyTo, ":", "")) {
			t.Fatalf("kamailiotest: ProxyTo %q is not host:port", cfg.ProxyTo)
		}
	}
	if cfg.Alias != "" && !safe.MatchString(cfg.Alias) {
		t.Fatalf("%v: alias %q", ErrBadName, cfg.Alias)
	}
	if cfg.CA == nil {
		if cfg.CA, err = testca.New("kamailiotest CA"); err != nil {
			t.Fatal(err)
		}
	}
	if cfg.NonceExpire == 0 {
		cfg.NonceExpire = 300
	}
	if cfg.MinExpires == 0 {
		cfg.MinExpires = 10
	}
	if cfg.MaxExpires == 0 {
		cfg.MaxExpires = 3600
	}
	if cfg.Debug == 0 {
		cfg.Debug = 2
	}
	var lastErr error
	for range startTries {
		s, err := start(t, cfg, modules)
		if err == nil {
			t.Cleanup(func() {
				if err := s.Stop(); err != nil {
					t.Errorf("kamailiotest: %v", err)
				}
				if t.Failed() {
					t.Logf("kamailio log:\n%s", s.Log())
				}
			})
			return s
		}
		lastErr = err
		if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "in use") {
			break // only a lost race for a free port is worth another try
		}
	}
	t.Fatal(lastErr)
	return nil
}

func start(t testing.TB, cfg Config, modules string) (*Server, error) {
	dir, err := os.MkdirTemp("", "kamailiotest-")
	if err != nil {
		return nil, fmt.Errorf("kamailiotest: %w", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	port, err := proctest.FreePorts(2) // UDP and TCP, then TLS
	if err != nil {
		return nil, err
	}
	tlsPort := port + 1
	leaf, err := cfg.CA.Loopback()
	if err != nil {
		return nil, err
	}
	if _, _, err := leaf.WriteFiles(dir, "server"); err != nil {
		return nil, err
	}
	caFile, err := cfg.CA.WriteFiles(dir, "ca.pem")
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("kamailiotest: %w", err)
	}
	data := tmplData{Config: cfg, Port: port, TLSPort: tlsPort, ModulePath: modules, Dir: dir, Secret: hex.EncodeToString(secret)}
	cfgFile := filepath.Join(dir, "kamailio.cfg")
	if err := render(cfgFile, "kamailio.cfg.tmpl", data); err != nil {
		return nil, err
	}
	if err := render(filepath.Join(dir, "tls.cfg"), "tls.cfg.tmpl", data); err != nil {
		return nil, err
	}
	runDir := filepath.Join(dir, "run")
	if err := os.Mkdir(runDir, 0o700); err != nil {
		return nil, fmt.Errorf("kamailiotest: %w", err)
	}
	s := &Server{
		UDPAddr: net.JoinHostPort("127.0.0.1", fmt.Sprint(port)),
		TCPAddr: net.JoinHostPort("127.0.0.1", fmt.Sprint(port)),
		TLSAddr: net.JoinHostPort("127.0.0.1", fmt.Sprint(tlsPort)),
		CA:      cfg.CA,
		CAFile:  caFile,
		Dir:     dir,
		log:     &proctest.Output{},
		cfgFile: cfgFile,
		runDir:  runDir,
	}
	if err := s.launch(); err != nil {
		return nil, err
	}
	return s, nil
}

// launch starts the kamailio process and waits until it answers.
func (s *Server) launch() error {
	p := &process{waited: make(chan struct{})}
	// -DD keeps the main process in the foreground (it still forks its
	// workers, which exit with it); -E logs to stderr.
	p.cmd = exec.Command(Binary, "-f", s.cfgFile, "-DD", "-E", "-m", "32", "-M", "4",
		"-Y", s.runDir, "-P", filepath.Join(s.Dir, "kamailio.pid"))
	p.cmd.Dir = s.Dir
	p.cmd.Stdout = s.log
	p.cmd.Stderr = s.log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("kamailiotest: start %s: %w", Binary, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.waited)
	}()
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	if err := s.waitReady(p); err != nil {
		_ = p.stop()
		return fmt.Errorf("%w\n%s", err, s.Log())
	}
	return nil
}

func render(path, name string, data tmplData) error {
	tmpl, err := template.ParseFS(templates, name)
	if err != nil {
		return fmt.Errorf("kamailiotest: %w", err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return fmt.Errorf("kamailiotest: %s: %w", name, err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("kamailiotest: %w", err)
	}
	return nil
}

// waitReady sends OPTIONS over UDP until Kamailio answers, then checks the
// TCP and TLS listeners accept connections.
func (s *Server) waitReady(p *process) error {
	deadline := time.Now().Add(startTimeout)
	conn, err := net.Dial("udp", s.UDPAddr)
	if err != nil {
		return fmt.Errorf("kamailiotest: %w", err)
	}
	defer conn.Close()
	local := conn.LocalAddr().(*net.UDPAddr)
	buf := make([]byte, 4096)
	for i := 0; ; i++ {
		select {
		case <-p.waited:
			return ErrExited
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kamailiotest: no answer from %s within %v", s.UDPAddr, startTimeout)
		}
		msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP %s;branch=z9hG4bK-kt%d\r\n"+
			"Max-Forwards: 70\r\n"+
			"From: <sip:probe@127.0.0.1>;tag=kt\r\n"+
			"To: <sip:%s>\r\n"+
			"Call-ID: kamailiotest-probe-%d\r\n"+
			"CSeq: %d OPTIONS\r\n"+
			"Content-Length: 0\r\n\r\n", s.UDPAddr, local, i, s.UDPAddr, i, i+1)
		if _, err := conn.Write([]byte(msg)); err != nil {
			return fmt.Errorf("kamailiotest: probe: %w", err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := conn.Read(buf)
		if err == nil && bytes.HasPrefix(buf[:n], []byte("SIP/2.0 200")) {
			break
		}
		var ne net.Error
		if err != nil && !errors.As(err, &ne) {
			// ICMP port unreachable while Kamailio binds: try again.
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, a := range []string{s.TCPAddr, s.TLSAddr} {
		c, err := net.DialTimeout("tcp", a, time.Until(deadline))
		if err != nil {
			return fmt.Errorf("kamailiotest: %w", err)
		}
		c.Close()
	}
	return nil
}

// Stop terminates the Kamailio process this Server started (SIGTERM, then
// SIGKILL to its process group after a bounded wait). It is safe to call
// more than once.
func (s *Server) Stop() error {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.stop()
}

// Restart stops Kamailio if it runs and starts it again on the same ports
// with the same configuration; its location table starts empty.
func (s *Server) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	var err error
	for range startTries {
		if err = s.launch(); err == nil || !strings.Contains(err.Error(), "in use") {
			break
		}
		// A port of the previous run may linger for a moment.
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

// Pause stops the Kamailio processes with SIGSTOP: connections stay open
// but nothing is answered, as with a hung server. Resume undoes it; Stop
// resumes before it terminates.
func (s *Server) Pause() error { return s.signalGroup(syscall.SIGSTOP) }

// Resume continues the processes stopped by Pause.
func (s *Server) Resume() error { return s.signalGroup(syscall.SIGCONT) }

func (s *Server) signalGroup(sig syscall.Signal) error {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil || p.cmd.Process == nil {
		return ErrExited
	}
	select {
	case <-p.waited:
		return ErrExited
	default:
	}
	// The group id is the pid of the process started here.
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("kamailiotest: signal %v: %w", sig, err)
	}
	return nil
}

func (p *process) stop() error {
	p.once.Do(func() {
		if p.cmd.Process == nil {
			return
		}
		pid := p.cmd.Process.Pid
		_ = syscall.Kill(-pid, syscall.SIGCONT) // in case of Pause
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.waited:
		case <-time.After(termTimeout):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			select {
			case <-p.waited:
			case <-time.After(stopTimeout):
				p.err = fmt.Errorf("kamailio pid %d did not exit", pid)
			}
		}
	})
	return p.err
}

// Log returns what Kamailio has written to stdout and stderr so far.
func (s *Server) Log() string { return s.log.String() }

// WaitLog reports whether the log holds substr within d. Kamailio's output
// reaches the log through a pipe, a moment after it acts.
func (s *Server) WaitLog(substr string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !strings.Contains(s.Log(), substr) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// RPC runs one Kamailio RPC command through kamcmd and returns its output.
func (s *Server) RPC(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kamcmd, append([]string{"-s", "unix:" + filepath.Join(s.Dir, "ctl.sock")}, args...)...)
	out, err := cmd.CombinedOutput()
	if err == nil && bytes.HasPrefix(out, []byte("error:")) {
		err = errors.New(strings.TrimSpace(string(out)))
	}
	if err != nil {
		return string(out), fmt.Errorf("kamailiotest: kamcmd %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Contacts returns the bindings of user in the location table. No binding
// is an empty list, not an error.
func (s *Server) Contacts(ctx context.Context, user string) ([]Contact, error) {
	// The RPC wants a full AOR (its domain is ignored, use_domain being
	// off); "s:" stops kamcmd from reading a numeric user as an integer.
	out, err := s.RPC(ctx, "ul.lookup", "location", "s:"+user+"@127.0.0.1")
	if err != nil {
		if strings.Contains(out, "AOR not found") {
			return nil, nil
		}
		return nil, err
	}
	return parseLookup(out), nil
}

// Contact is one binding in Kamailio's location table.
type Contact struct {
	// Address is the contact URI.
	Address string
	// Expires is the binding's remaining lifetime as Kamailio reports it.
	Expires string
	// CallID and CSeq are those of the REGISTER that last refreshed it.
	CallID string
	CSeq   string
	// Received is the source address Kamailio saw, when it differs.
	Received string
	// Instance and RegID are the RFC 5626 parameters, if any.
	Instance string
	RegID    string
}

// parseLookup reads kamcmd's indented text rendering of ul.lookup.
func parseLookup(out string) []Contact {
	var cs []Contact
	var cur *Contact
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Address":
			cs = append(cs, Contact{Address: v})
			cur = &cs[len(cs)-1]
		case "Expires":
			if cur != nil {
				cur.Expires = v
			}
		case "Call-ID":
			if cur != nil {
				cur.CallID = v
			}
		case "CSeq":
			if cur != nil {
				cur.CSeq = v
			}
		case "Received":
			if cur != nil {
				cur.Received = v
			}
		case "Instance":
			if cur != nil {
				cur.Instance = v
			}
		case "Reg-Id":
			if cur != nil {
				cur.RegID = v
			}
		}
	}
	return cs
}
