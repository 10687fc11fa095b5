package web

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tipring/tipring/firmware/config"
	"github.com/tipring/tipring/firmware/provision"
)

func networkForm1() url.Values {
	return url.Values{"server": {"192.0.2.9:514"}, "transport": {"tcp"}, "level": {"warn"},
		"url": {"https://prov.example.net/{mac}.toml"}, "interval_min": {"30"}}
}

func TestPagesNetwork(t *testing.T) {
	p := newPages(t, func(o *Options) {
		o.TimeSync = func() (bool, string) { return false, "timedatectl: NTP not synchronised" }
		o.Provision = func() (provision.Status, bool) { return provision.Status{}, false }
	})
	_, body, tok := p.get("/network")
	for _, want := range []string{`action="/network"`, `enctype="multipart/form-data"`, `name="server"`, `<option value="udp" selected>`,
		`<option value="info" selected>`, `name="url"`, `name="interval_min" value="60"`, `name="ca_file"`, `name="signature_key"`,
		"not synchronised", "timedatectl: NTP not synchronised", "Off: no provisioning server is set", `aria-current="page">Network`} {
		if !strings.Contains(body, want) {
			t.Errorf("network page lacks %q", want)
		}
	}
	caPath := filepath.Join(filepath.Dir(p.store.Path()), "provision-ca.pem")
	bad := networkForm1()
	bad.Set("csrf", tok)
	bad.Set("server", "syslog.example.net")
	bad.Set("transport", "sctp")
	bad.Set("url", "http://prov.example.net/x.toml")
	bad.Set("interval_min", "0")
	bad.Set("signature_key", "not-a-key")
	p.rejected("/network", bad, map[string][]byte{"ca_file": []byte("not a certificate")},
		fieldError("server", "&#34;syslog.example.net&#34; is not host:port"),
		fieldError("transport", "&#34;sctp&#34; is not one of udp, tcp"),
		fieldError("url", "&#34;http://prov.example.net/x.toml&#34; is not an https:// address"),
		fieldError("interval_min", "0 is out of range 1…10080"),
		fieldError("signature_key", "is not a base64 Ed25519 public key (32 bytes)"),
		fieldError("ca_file", "the file holds no PEM certificate (-----BEGIN CERTIFICATE-----)"),
		`name="server" value="syslog.example.net"`, `name="interval_min" value="0"`, "Off: no provisioning server is set")
	bad = networkForm1()
	bad.Set("csrf", tok)
	bad.Set("interval_min", "soon")
	p.rejected("/network", bad, map[string][]byte{}, fieldError("interval_min", "&#34;soon&#34; is not a whole number"))
	if _, err := os.Stat(caPath); !os.IsNotExist(err) {
		t.Fatal("a refused CA certificate was stored")
	}
	p.refused("/network", networkForm1())

	good := networkForm1()
	good.Set("csrf", tok)
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	good.Set("signature_key", key)
	ca := testCA(t)
	if resp, body := p.multipart("/network", good, map[string][]byte{"ca_file": ca}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("good network form: %s\n%s", resp.Status, body)
	}
	c := p.store.Get()
	want := config.Syslog{Server: "192.0.2.9:514", Transport: "tcp", Level: "warn"}
	if c.Syslog != want || c.Provision != (config.Provision{URL: "https://prov.example.net/{mac}.toml", IntervalMin: 30, CAFile: "provision-ca.pem", SignatureKey: key}) {
		t.Fatalf("saved %+v %+v", c.Syslog, c.Provision)
	}
	if stored, err := os.ReadFile(caPath); err != nil || !bytes.Equal(stored, ca) {
		t.Fatalf("CA certificate not stored next to the config: %v", err)
	}
	if onDisk, err := config.Load(p.store.Path()); err != nil || onDisk.Syslog != want || len(p.changes) != 1 {
		t.Fatalf("not saved or not announced: %v", err)
	}
	_, body, _ = p.get("/network?saved=1")
	if !strings.Contains(body, "provision-ca.pem") || !strings.Contains(body, `name="clear_ca_file"`) || !strings.Contains(body, saved) {
		t.Fatal("the CA in use or the notice is not shown")
	}
	// Emptying the fields turns both off; the checkbox drops the CA.
	off := url.Values{"csrf": {tok}, "transport": {"udp"}, "level": {"info"}, "interval_min": {"60"}, "clear_ca_file": {"on"}}
	if resp, body := p.multipart("/network", off, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("turning off: %s\n%s", resp.Status, body)
	}
	if c := p.store.Get(); c.Syslog.Server != "" || c.Provision.URL != "" || c.Provision.CAFile != "" {
		t.Fatalf("saved %+v %+v", c.Syslog, c.Provision)
	}
}

// testServerCert makes a server certificate and its key as PEM, issued by
// a throwaway CA (or self-signed when ca is false).
func testServerCert(t *testing.T, notBefore, notAfter time.Time, names []string, ips []net.IP, usage []x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "gateway.example.net"},
		NotBefore: notBefore, NotAfter: notAfter, DNSNames: names, IPAddresses: ips, ExtKeyUsage: usage,
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
}

// TestPagesCertificate uploads HTTPS certificates on the maintenance page:
// each kind of bad upload is refused with its reason and changes nothing;
// a good one is stored next to the configuration (the key 0600) and is
// what the listener presents from the next handshake on. No page ever
// holds the key.
func TestPagesCertificate(t *testing.T) {
	dir := t.TempDir()
	wc := NewWebCert(filepath.Join(dir, "web-cert.pem"), filepath.Join(dir, "web-key.pem"))
	if err := wc.Load([]string{"tipring"}, nil); err != nil {
		t.Fatal(err)
	}
	first, _ := wc.GetCertificate(nil)
	p := newPages(t, func(o *Options) { o.WebCert = wc; o.Secure = true })
	_, body, tok := p.get("/maintenance")
	for _, want := range []string{`action="/maintenance/certificate"`, "localhost, tipring, 127.0.0.1, ::1", "self-signed", `name="cert"`, `name="key"`} {
		if !strings.Contains(body, want) {
			t.Errorf("maintenance page lacks %q", want)
		}
	}
	now := time.Now()
	good, goodKey := testServerCert(t, now.Add(-time.Hour), now.AddDate(1, 0, 0), []string{"gateway.example.net"}, []net.IP{net.IPv4(192, 0, 2, 7)}, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth})
	expired, expiredKey := testServerCert(t, now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0), []string{"gateway.example.net"}, nil, nil)
	noSAN, noSANKey := testServerCert(t, now.Add(-time.Hour), now.AddDate(1, 0, 0), nil, nil, nil)
	client, clientKey := testServerCert(t, now.Add(-time.Hour), now.AddDate(1, 0, 0), []string{"gateway.example.net"}, nil, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	_, otherKey := testServerCert(t, now.Add(-time.Hour), now.AddDate(1, 0, 0), []string{"x"}, nil, nil)
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	form := url.Values{"csrf": {tok}}
	keyBody := func(k []byte) string { b, _ := pem.Decode(k); return base64.StdEncoding.EncodeToString(b.Bytes)[:40] }
	for _, tc := range []struct {
		name       string
		cert, key  []byte
		want       string
		secretKeys [][]byte
	}{
		{"nothing", nil, nil, "cert: choose the certificate file to upload", nil},
		{"not PEM", []byte("hello"), goodKey, "cert: the files hold no PEM certificate", [][]byte{goodKey}},
		{"no key", good, nil, "cert: the files hold no private key: upload the key file too, or one PEM file holding both", nil},
		{"wrong key", good, otherKey, "cert: the private key does not belong to the certificate", [][]byte{otherKey}},
		{"encrypted key", good, encrypted, "cert: the private key is protected by a passphrase", nil},
		{"expired", expired, expiredKey, "cert: the certificate expired on " + now.AddDate(-1, 0, 0).UTC().Format(time.DateOnly), [][]byte{expiredKey}},
		{"no SAN", noSAN, noSANKey, "cert: the certificate has no subject alternative name", [][]byte{noSANKey}},
		{"client certificate", client, clientKey, "cert: the certificate is not for a server", [][]byte{clientKey}},
		{"two keys", append(append([]byte{}, good...), goodKey...), goodKey, "cert: the files hold more than one private key", [][]byte{goodKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{}
			if tc.cert != nil {
				files["cert"] = tc.cert
			}
			if tc.key != nil {
				files["key"] = tc.key
			}
			beforeCert, _ := os.ReadFile(wc.CertFile)
			beforeKey, _ := os.ReadFile(wc.KeyFile)
			resp, body := p.multipart("/maintenance/certificate", form, files)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Nothing was changed") || !strings.Contains(body, tc.want) {
				t.Errorf("%s: %s, want %q:\n%s", tc.name, resp.Status, tc.want, body)
			}
			for _, k := range tc.secretKeys {
				if strings.Contains(body, keyBody(k)) {
					t.Errorf("%s: the page shows the uploaded key", tc.name)
				}
			}
			afterCert, _ := os.ReadFile(wc.CertFile)
			afterKey, _ := os.ReadFile(wc.KeyFile)
			if cur, _ := wc.GetCertificate(nil); cur != first || !bytes.Equal(beforeCert, afterCert) || !bytes.Equal(beforeKey, afterKey) {
				t.Errorf("%s: a refused certificate was stored or put in use", tc.name)
			}
		})
	}
	p.refused("/maintenance/certificate", form)

	// A good pair in two files.
	resp, body := p.multipart("/maintenance/certificate", form, map[string][]byte{"cert": good, "key": goodKey})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/maintenance?done=certificate#certificate" {
		t.Fatalf("good certificate: %s\n%s", resp.Status, body)
	}
	if b, _ := os.ReadFile(wc.CertFile); !bytes.Equal(b, good) {
		t.Error("web-cert.pem does not hold the uploaded certificate")
	}
	if b, _ := os.ReadFile(wc.KeyFile); !bytes.Equal(b, goodKey) {
		t.Error("web-key.pem does not hold the uploaded key")
	}
	if fi, err := os.Stat(wc.KeyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("web-key.pem mode: %v %v", fi.Mode(), err)
	}
	cur, err := wc.GetCertificate(nil)
	if err != nil || cur.Leaf == nil || cur.Leaf.DNSNames[0] != "gateway.example.net" {
		t.Fatalf("certificate in use: %v", err)
	}
	_, body, _ = p.get("/maintenance?done=certificate")
	if !strings.Contains(body, "gateway.example.net, 192.0.2.7") || !strings.Contains(body, "in use for new connections") || strings.Contains(body, keyBody(goodKey)) {
		t.Errorf("maintenance page after the upload:\n%s", body)
	}
	// One file holding both, served to a TLS client from the next
	// handshake on.
	second, secondKey := testServerCert(t, now.Add(-time.Hour), now.AddDate(1, 0, 0), []string{"second.example.net"}, nil, nil)
	if resp, body := p.multipart("/maintenance/certificate", form, map[string][]byte{"cert": append(append([]byte{}, secondKey...), second...)}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("combined file: %s\n%s", resp.Status, body)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{GetCertificate: wc.GetCertificate})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := conn.ConnectionState().PeerCertificates[0].DNSNames; len(got) != 1 || got[0] != "second.example.net" {
		t.Errorf("the listener presents %v", got)
	}
}

// TestWebCertLoadDamaged shows that a pair that does not load (here a key
// that is not the certificate's) keeps the page reachable on a temporary
// certificate, and leaves the files for the admin to replace.
func TestWebCertLoadDamaged(t *testing.T) {
	dir := t.TempDir()
	c1, _ := testServerCert(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), []string{"a"}, nil, nil)
	_, k2 := testServerCert(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), []string{"b"}, nil, nil)
	os.WriteFile(filepath.Join(dir, "c.pem"), c1, 0o644)
	os.WriteFile(filepath.Join(dir, "k.pem"), k2, 0o600)
	wc := NewWebCert(filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem"))
	if err := wc.Load(nil, nil); err == nil || !strings.Contains(err.Error(), "temporary") {
		t.Fatalf("Load: %v", err)
	}
	if c, err := wc.GetCertificate(nil); err != nil || c.Leaf == nil || c.Leaf.DNSNames[0] != "localhost" {
		t.Fatalf("temporary certificate: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "k.pem")); !bytes.Equal(b, k2) {
		t.Fatal("the key file was touched")
	}
}

// TestPagesSIPKeepaliveAndFax covers sip.keepalive_s and sip.fax_reinvite
// on the SIP page.
func TestPagesSIPKeepaliveAndFax(t *testing.T) {
	p := newPages(t, nil)
	_, body, tok := p.get("/sip")
	if !strings.Contains(body, `name="keepalive_s" value="30"`) || !strings.Contains(body, `name="fax_reinvite" value="on" checked`) {
		t.Fatalf("SIP page without the keep-alive (30) and fax (on) defaults:\n%s", body)
	}
	form := sipForm1()
	form.Set("csrf", tok)
	form.Set("keepalive_s", "5")
	p.rejected("/sip", form, map[string][]byte{}, fieldError("keepalive_s", "5 is not 0 (off) or 10…600"))
	form.Set("keepalive_s", "0")
	if resp, body := p.multipart("/sip", form, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("keepalive_s 0: %s\n%s", resp.Status, body)
	}
	if c := p.store.Get().SIP; c.KeepaliveS != 0 || c.FaxReinvite {
		t.Fatalf("saved keepalive_s %d, fax_reinvite %v", c.KeepaliveS, c.FaxReinvite)
	}
	form.Set("keepalive_s", "120")
	form.Set("fax_reinvite", "on")
	p.multipart("/sip", form, nil)
	if c := p.store.Get().SIP; c.KeepaliveS != 120 || !c.FaxReinvite {
		t.Fatalf("saved keepalive_s %d, fax_reinvite %v", c.KeepaliveS, c.FaxReinvite)
	}
}
