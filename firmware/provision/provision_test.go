package provision

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/sip/siptest/testca"
)

// server is a provisioning server: files by path, each with an optional
// signature file.
type server struct {
	mu    sync.Mutex
	files map[string][]byte
	gets  []string
}

func (s *server) set(path string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if body == nil {
		delete(s.files, path)
		return
	}
	s.files[path] = body
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets = append(s.gets, r.URL.Path)
	b, ok := s.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(b)
}

// startServer serves files over TLS with a certificate from a throwaway
// CA, returned for the fetcher's trust anchors.
func startServer(t *testing.T) (*server, *httptest.Server, *testca.CA) {
	t.Helper()
	ca, err := testca.New("provisioning test CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{files: map[string][]byte{}}
	hs := httptest.NewUnstartedServer(s)
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}}
	hs.StartTLS()
	t.Cleanup(hs.Close)
	return s, hs, ca
}

const localDoc = `version = 2
[board]
name = "sim"
ports = 2
[web]
listen = "127.0.0.1:0"
admin_password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
[sip]
registrar = "192.0.2.1"
[[line]]
port = 1
user = "1001"
password = "local-secret-1"
`

const provisioned = `version = 2
[board]
name = "sim"
ports = 2
[web]
listen = "127.0.0.1:0"
[sip]
registrar = "192.0.2.9"
[region]
country = "de"
[[line]]
port = 1
user = "1001"
display_name = "From the server"
`

func newStore(t *testing.T) (*config.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tipring.toml")
	if err := os.WriteFile(path, []byte(localDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return config.NewStore(path, c), path
}

func sign(priv ed25519.PrivateKey, b []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(priv, b)) + "\n")
}

func TestFetchFailuresChangeNothing(t *testing.T) {
	srv, hs, ca := startServer(t)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	store, path := newStore(t)
	f, err := New(Config{URL: hs.URL + "/cfg/{mac}.toml", MAC: "b827eb123456", RootCAs: ca.Pool(), SignatureKey: pub,
		Store: store, MaxSize: 4096, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	const file = "/cfg/b827eb123456.toml"
	before, _ := os.ReadFile(path)
	bigDoc := []byte(provisioned + strings.Repeat("# padding\n", 500))
	badTOML := []byte("version = 2\n[sip]\nregistrar = \"192.0.2.9\"\nptime_ms = 25\n")
	for _, c := range []struct {
		name       string
		body, sig  []byte
		wantErrors []string
	}{
		{"404", nil, nil, []string{"GET " + hs.URL + file + ": 404 Not Found"}},
		{"bad TOML", badTOML, sign(priv, badTOML), []string{hs.URL + file + ":4: sip.ptime_ms: 25 is not 10, 20 or 30"}},
		{"syntax", []byte("[sip\n"), sign(priv, []byte("[sip\n")), []string{hs.URL + file + ":1:"}},
		{"bad signature", []byte(provisioned), sign(priv, []byte(provisioned+"x")), []string{"signature does not verify"}},
		{"no signature", []byte(provisioned), nil, []string{"signature: GET " + hs.URL + file + ".sig: 404 Not Found"}},
		{"oversized", bigDoc, sign(priv, bigDoc), []string{"larger than the 4096"}},
	} {
		srv.set(file, c.body)
		srv.set(file+".sig", c.sig)
		err := f.Fetch(context.Background())
		if err == nil {
			t.Errorf("%s: fetched", c.name)
			continue
		}
		for _, w := range c.wantErrors {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q, want it to say %q", c.name, err, w)
			}
		}
		if st := f.Status(); st.LastError != err.Error() || st.LastAttempt.IsZero() || !st.LastSuccess.IsZero() || st.NextRun.IsZero() {
			t.Errorf("%s: status %+v", c.name, st)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
			t.Fatalf("%s: the configuration file changed", c.name)
		}
	}
	// A good, signed file applies, keeping the local password and the
	// admin password hash.
	var changes int
	store.OnChange(func(_, _ config.Config) { changes++ })
	srv.set(file, []byte(provisioned))
	srv.set(file+".sig", sign(priv, []byte(provisioned)))
	if err := f.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := store.Get()
	if c.SIP.Registrar != "192.0.2.9" || c.Region.Country != "de" || c.Lines[0].DisplayName != "From the server" {
		t.Errorf("not applied: %+v %+v %+v", c.SIP, c.Region, c.Lines)
	}
	if c.Lines[0].Password != "local-secret-1" || !strings.HasPrefix(c.Web.AdminPasswordHash, "$argon2id$") {
		t.Errorf("local secrets lost: %q %q", c.Lines[0].Password, c.Web.AdminPasswordHash)
	}
	if onDisk, err := config.Load(path); err != nil || onDisk.Region.Country != "de" {
		t.Errorf("not saved: %v", err)
	}
	if st := f.Status(); st.LastError != "" || st.LastSuccess.IsZero() || !st.Changed {
		t.Errorf("status after success %+v", st)
	}
	// The same file again saves nothing.
	saved, _ := os.ReadFile(path)
	if err := f.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, saved) || changes != 1 || f.Status().Changed {
		t.Errorf("an unchanged file was saved again (%d changes)", changes)
	}
}

// The server's certificate is verified: without the CA as a trust
// anchor the fetch fails.
func TestFetchVerifiesTLS(t *testing.T) {
	srv, hs, _ := startServer(t)
	srv.set("/x.toml", []byte(provisioned))
	store, path := newStore(t)
	before, _ := os.ReadFile(path)
	f, err := New(Config{URL: hs.URL + "/x.toml", Store: store})
	if err != nil {
		t.Fatal(err)
	}
	err = f.Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("fetch from an unknown CA: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Fatal("the configuration file changed")
	}
}

// Run fetches at once and again when triggered.
func TestRunAndTrigger(t *testing.T) {
	srv, hs, ca := startServer(t)
	srv.set("/x.toml", []byte(provisioned))
	store, _ := newStore(t)
	f, err := New(Config{URL: hs.URL + "/x.toml", RootCAs: ca.Pool(), Store: store, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.Run(ctx)
	count := func() int {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return len(srv.gets)
	}
	deadline := time.Now().Add(5 * time.Second)
	for count() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no fetch on start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.Trigger()
	for count() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no fetch when triggered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := f.Status(); st.NextRun.Before(time.Now().Add(50 * time.Minute)) {
		t.Errorf("next run %v, want an hour on", st.NextRun)
	}
}

func TestDefaultRouteInterface(t *testing.T) {
	p := filepath.Join(t.TempDir(), "route")
	os.WriteFile(p, []byte("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"+
		"eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"+
		"wlan0\t00000000\t0102A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"), 0o644)
	if name, err := defaultRouteInterface(p); err != nil || name != "wlan0" {
		t.Errorf("got %q, %v", name, err)
	}
}
