package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/sip/siptest/testca"
)

// provServer serves provisioning files by path over TLS with a
// certificate from a throwaway CA.
type provServer struct {
	mu    sync.Mutex
	files map[string][]byte
}

func (s *provServer) set(path string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b == nil {
		delete(s.files, path)
	} else {
		s.files[path] = b
	}
}

func (s *provServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	b, ok := s.files[r.URL.Path]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(b)
}

// The gateway provisions itself from an HTTPS server on boot and when
// "Provision now" is pressed: a missing file, bad TOML, a bad signature
// and an oversized file each leave the configuration file byte-identical
// and the pages show why; a good signed file is applied at once, keeping
// the local line passwords and admin password.
func TestProvisionGateway(t *testing.T) {
	ca, err := testca.New("provisioning CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	srv := &provServer{files: map[string][]byte{}}
	hs := httptest.NewUnstartedServer(srv)
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}}
	hs.StartTLS()
	t.Cleanup(hs.Close)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	serve := func(body []byte, signed []byte) {
		const file = "/tipring/0242ac110002.toml"
		srv.set(file, body)
		if signed == nil {
			srv.set(file+".sig", nil)
		} else {
			srv.set(file+".sig", []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(priv, signed))))
		}
	}
	t.Setenv("TIPRING_PROVISION_MAC", "0242ac110002")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "prov-ca.pem"), ca.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	base, _ := os.ReadFile("testdata/sim.toml")
	provSection := fmt.Sprintf("\n[provision]\nurl = %q\ninterval_min = 600\nca_file = \"prov-ca.pem\"\nsignature_key = %q\n",
		hs.URL+"/tipring/{mac}.toml", base64.StdEncoding.EncodeToString(pub))
	good := []byte(strings.Replace(string(base), `display_name = "Kitchen"`, `display_name = "Provisioned"`, 1) + provSection)
	good = bytes.Replace(good, []byte(`password = "secret"`), nil, -1) // the server does not know them
	good = bytes.Replace(good, []byte(`country = "us"`), []byte(`country = "de"`), 1)
	// On boot the file is missing: nothing changes.
	g := startGatewayDoc(t, dir, string(base)+provSection)
	const pw = "blue-Harbor-42"
	c := loginGateway(t, g, pw)
	web := "http://" + g.addr()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body, _ := wpGet(t, c, web+"/")
		if strings.Contains(html.UnescapeString(body), "404 Not Found") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the status page does not show the failed boot fetch:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	before, _ := os.ReadFile(g.store.Path())
	badTOML := []byte("version = 2\n[region]\ncountry = \"zz\"\n")
	big := append(append([]byte(nil), good...), bytes.Repeat([]byte("# padding to make the file too large\n"), 8000)...)
	for _, tc := range []struct {
		name      string
		body, sig []byte
		want      string
	}{
		{"404", nil, nil, "404 Not Found"},
		{"bad TOML", badTOML, badTOML, ".toml:3: region.country"},
		{"bad signature", good, append(good, '!'), "signature does not verify"},
		{"oversized", big, big, "larger than"},
	} {
		serve(tc.body, tc.sig)
		_, _, tok := wpGet(t, c, web+"/maintenance")
		code, body := wpPost(t, c, web+"/maintenance/provision", url.Values{"csrf": {tok}})
		body = html.UnescapeString(body)
		if code != http.StatusBadGateway || !strings.Contains(body, "Provisioning failed, nothing was changed") || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, the page does not say %q", tc.name, code, tc.want)
		}
		if after, _ := os.ReadFile(g.store.Path()); !bytes.Equal(after, before) {
			t.Fatalf("%s: the configuration file changed", tc.name)
		}
		_, maint, _ := wpGet(t, c, web+"/maintenance")
		if !strings.Contains(html.UnescapeString(maint), tc.want) {
			t.Errorf("%s: the maintenance page does not show the last error", tc.name)
		}
	}
	serve(good, good)
	_, _, tok := wpGet(t, c, web+"/maintenance")
	if code, body := wpPost(t, c, web+"/maintenance/provision", url.Values{"csrf": {tok}}); code != http.StatusSeeOther {
		t.Fatalf("a good file: %d %s", code, body)
	}
	cfg := g.store.Get()
	if cfg.Lines[0].DisplayName != "Provisioned" || cfg.Region.Country != "de" {
		t.Errorf("not applied: %+v %+v", cfg.Lines[0], cfg.Region)
	}
	if cfg.Lines[0].Password != "secret" || cfg.Web.AdminPasswordHash == "" {
		t.Error("the local secrets were lost")
	}
	_, status, _ := wpGet(t, c, web+"/")
	if !strings.Contains(status, "configuration updated") || strings.Contains(status, "prov-error") {
		t.Error("the status page does not show the successful fetch")
	}
	if !strings.Contains(status, "System clock") || !(strings.Contains(status, ">synchronised<") || strings.Contains(status, ">not synchronised<")) {
		t.Error("the status page does not show the clock and whether it is synchronised")
	}
}
