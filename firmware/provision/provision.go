// Package provision fetches the gateway's configuration from a server,
// for fleets of gateways set up centrally: on boot and at a fixed
// interval, a Fetcher downloads the file at [provision] url (over verified
// TLS, bounded in size and time), checks its Ed25519 signature when a key
// is configured, parses it with config.Parse, and saves it through the
// config.Store, which applies it without a restart.
//
// The device keeps what the server should not have to know: the line
// passwords the file leaves out (config.KeepSecrets), its admin password
// hash, and its own [provision] settings when the file has none. A file
// that fails any check changes nothing; the reason is in Status, which
// the status and maintenance pages show.
package provision

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tipring/tipring/firmware/config"
)

// Defaults of Config.
const (
	DefaultTimeout = 30 * time.Second
	DefaultMaxSize = 256 << 10
	maxSigSize     = 1 << 10
)

// Config sets up a Fetcher.
type Config struct {
	// URL is the https:// address of the file; {mac} becomes MAC.
	URL string
	// Interval is the time between fetches after the first.
	Interval time.Duration
	// RootCAs are the trust anchors of the server's certificate; nil
	// means the system roots. Unused when Client is set.
	RootCAs *x509.CertPool
	// SignatureKey, when set, makes the file need a valid Ed25519
	// signature, served base64-encoded at URL+".sig".
	SignatureKey ed25519.PublicKey
	// MAC replaces {mac} in URL; empty means DefaultMAC's.
	MAC string
	// Store is the configuration the file replaces.
	Store *config.Store
	// Client makes the requests; nil means one with RootCAs, TLS 1.2 or
	// later, and Timeout.
	Client  *http.Client
	Timeout time.Duration // per fetch; default DefaultTimeout
	MaxSize int64         // largest file accepted; default DefaultMaxSize
	Now     func() time.Time
	Logger  *slog.Logger
}

// Status is what the pages show of provisioning.
type Status struct {
	URL         string // with {mac} filled in, without any password
	LastAttempt time.Time
	LastSuccess time.Time
	LastError   string // of the last attempt; empty when it succeeded
	NextRun     time.Time
	// Changed tells whether the last successful fetch changed the
	// configuration (a file identical to it is not saved again).
	Changed bool
}

// Fetcher provisions the configuration; its methods are safe for
// concurrent use.
type Fetcher struct {
	cfg     Config
	url     string
	shown   string // url without userinfo
	trigger chan struct{}
	run     sync.Mutex // one fetch at a time

	mu sync.Mutex
	st Status
}

// New returns a Fetcher; Run starts its schedule.
func New(cfg Config) (*Fetcher, error) {
	if cfg.Store == nil {
		return nil, errors.New("provision: no store")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Hour
	}
	if cfg.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil
		tr.TLSClientConfig = &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
		cfg.Client = &http.Client{Transport: tr, Timeout: cfg.Timeout}
	}
	mac := cfg.MAC
	if mac == "" && strings.Contains(cfg.URL, "{mac}") {
		var err error
		if mac, err = DefaultMAC(); err != nil {
			return nil, fmt.Errorf("provision: {mac}: %w", err)
		}
	}
	raw := strings.ReplaceAll(cfg.URL, "{mac}", mac)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("provision: %q is not an https:// address", cfg.URL)
	}
	f := &Fetcher{cfg: cfg, url: raw, shown: u.Redacted(), trigger: make(chan struct{}, 1)}
	f.st.URL = f.shown
	return f, nil
}

// Status returns the state of provisioning.
func (f *Fetcher) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

// Trigger asks Run for a fetch now, without waiting for it.
func (f *Fetcher) Trigger() {
	select {
	case f.trigger <- struct{}{}:
	default:
	}
}

// Run fetches at once, then every Interval and whenever Trigger asks,
// until ctx ends.
func (f *Fetcher) Run(ctx context.Context) {
	next := time.NewTimer(0)
	defer next.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-next.C:
		case <-f.trigger:
			next.Stop()
		}
		f.Fetch(ctx)
		next.Reset(f.cfg.Interval)
	}
}

// errUnchanged ends an update that would change nothing.
var errUnchanged = errors.New("unchanged")

// Fetch runs one round: download, verify, parse, save. A failure leaves
// the configuration and its file as they were and is returned and kept in
// Status.
func (f *Fetcher) Fetch(ctx context.Context) error {
	f.run.Lock()
	defer f.run.Unlock()
	started := f.cfg.Now()
	f.mu.Lock()
	f.st.LastAttempt = started
	f.mu.Unlock()
	changed, err := f.fetch(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.NextRun = f.cfg.Now().Add(f.cfg.Interval)
	if err != nil {
		f.st.LastError = err.Error()
		f.cfg.Logger.Warn("provisioning failed: the configuration is unchanged", "url", f.shown, "err", err)
		return err
	}
	f.st.LastError, f.st.LastSuccess, f.st.Changed = "", f.cfg.Now(), changed
	if changed {
		f.cfg.Logger.Info("provisioned: the configuration was updated", "url", f.shown)
	} else {
		f.cfg.Logger.Debug("provisioned: no change", "url", f.shown)
	}
	return nil
}

func (f *Fetcher) fetch(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	body, err := f.get(ctx, f.url, f.cfg.MaxSize)
	if err != nil {
		return false, err
	}
	if f.cfg.SignatureKey != nil {
		sig, err := f.get(ctx, f.url+".sig", maxSigSize)
		if err != nil {
			return false, fmt.Errorf("signature: %w", err)
		}
		raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(sig)))
		if err != nil || len(raw) != ed25519.SignatureSize {
			return false, errors.New("signature: the .sig file does not hold a base64 Ed25519 signature")
		}
		if !ed25519.Verify(f.cfg.SignatureKey, body, raw) {
			return false, errors.New("signature: the file's signature does not verify with provision.signature_key; nothing was applied")
		}
	}
	up, err := config.Parse(f.shown, body)
	if err != nil {
		return false, err
	}
	err = f.cfg.Store.Update(func(c *config.Config) error {
		next := Merge(up, *c)
		a, err1 := config.Marshal(next)
		b, err2 := config.Marshal(*c)
		if err1 == nil && err2 == nil && bytes.Equal(a, b) {
			return errUnchanged
		}
		*c = next
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// Merge returns the provisioned configuration up as the device keeps it,
// given its current one: the line passwords up lacks and the admin
// password hash stay the device's, and so do its [provision] settings
// when up has no provision.url.
func Merge(up, cur config.Config) config.Config {
	next := config.KeepSecrets(up, cur)
	if cur.Web.AdminPasswordHash != "" {
		next.Web.AdminPasswordHash = cur.Web.AdminPasswordHash
	}
	if up.Provision.URL == "" {
		next.Provision = cur.Provision
	}
	return next
}

// get downloads u, refusing more than limit bytes.
func (f *Fetcher) get(ctx context.Context, u string, limit int64) ([]byte, error) {
	shown := f.shown
	if strings.HasSuffix(u, ".sig") {
		shown += ".sig"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/toml, text/plain")
	resp, err := f.cfg.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // it repeats the URL, with any password in it
		}
		return nil, fmt.Errorf("GET %s: %w", shown, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", shown, resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("GET %s: the file is %d bytes, larger than the %d allowed", shown, resp.ContentLength, limit)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", shown, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("GET %s: the file is larger than the %d bytes allowed", shown, limit)
	}
	return b, nil
}

// DefaultMAC returns the MAC address of the interface the default route
// goes through, in lower case without colons ("b827eb123456").
func DefaultMAC() (string, error) {
	name, err := defaultRouteInterface("/proc/net/route")
	if err != nil {
		return "", err
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return "", err
	}
	if len(ifc.HardwareAddr) == 0 {
		return "", fmt.Errorf("interface %s has no MAC address", name)
	}
	return strings.ReplaceAll(ifc.HardwareAddr.String(), ":", ""), nil
}

// defaultRouteInterface reads the kernel's IPv4 routing table for the
// interface of the default route (destination 0, mask 0).
func defaultRouteInterface(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 8 && f[1] == "00000000" && f[7] == "00000000" {
			return f[0], nil
		}
	}
	return "", errors.New("no default route")
}
