package web

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tipring/tipring/firmware/internal/atomicfile"
)

// WebCert is the web page's HTTPS certificate, kept as two PEM files next
// to the configuration (the key readable by its owner only). The listener
// asks GetCertificate on every handshake, so a certificate the admin
// uploads is in use for the next connection without a restart.
type WebCert struct {
	CertFile, KeyFile string

	cur atomic.Pointer[tls.Certificate]
	mu  sync.Mutex // one replacement at a time
}

// NewWebCert returns the certificate kept in certFile and keyFile; Load
// reads them.
func NewWebCert(certFile, keyFile string) *WebCert {
	return &WebCert{CertFile: certFile, KeyFile: keyFile}
}

// Load puts the files' certificate in use, making a self-signed one for
// names and ips (plus localhost) when there are no files yet, as on first
// boot. When the files are there but do not load (damaged, or a key that
// does not match its certificate), it returns why and serves a temporary
// self-signed certificate, leaving the files alone, so that the page stays
// reachable to upload a good pair.
func (w *WebCert) Load(names []string, ips []net.IP) error {
	c, err := LoadOrCreateCert(w.CertFile, w.KeyFile, names, ips)
	if err == nil {
		w.cur.Store(&c)
		return nil
	}
	certPEM, keyPEM, serr := selfSigned(names, ips)
	if serr != nil {
		return errors.Join(err, serr)
	}
	tmp, serr := tls.X509KeyPair(certPEM, keyPEM)
	if serr != nil {
		return errors.Join(err, serr)
	}
	w.cur.Store(&tmp)
	return fmt.Errorf("%w (serving a temporary self-signed certificate)", err)
}

// GetCertificate is for tls.Config: the certificate in use.
func (w *WebCert) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c := w.cur.Load(); c != nil {
		return c, nil
	}
	return nil, errors.New("web: no certificate loaded")
}

// Leaf returns the certificate in use, or the one in CertFile when none
// is loaded (the page is served over plain HTTP); nil when there is none.
func (w *WebCert) Leaf() *x509.Certificate {
	if c := w.cur.Load(); c != nil && c.Leaf != nil {
		return c.Leaf
	}
	data, err := os.ReadFile(w.CertFile)
	if err != nil {
		return nil
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil
	}
	leaf, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil
	}
	return leaf
}

// Replace checks an uploaded certificate and key (see parseKeyPair), writes
// them over the files atomically, the key first and with mode 0600, and
// puts them in use. On error nothing is changed.
func (w *WebCert) Replace(now time.Time, uploads ...[]byte) (*x509.Certificate, error) {
	certPEM, keyPEM, c, err := parseKeyPair(now, uploads...)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	oldKey, keyErr := os.ReadFile(w.KeyFile)
	if err := atomicfile.Write(w.KeyFile, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(w.CertFile, certPEM, 0o644); err != nil {
		if keyErr == nil { // keep the old pair matching
			atomicfile.Write(w.KeyFile, oldKey, 0o600)
		} else {
			os.Remove(w.KeyFile)
		}
		return nil, err
	}
	w.cur.Store(&c)
	return c.Leaf, nil
}

// maxCertUpload bounds each uploaded certificate or key file.
const maxCertUpload = 64 << 10

// parseKeyPair finds a certificate chain and its private key in the PEM
// uploads (a certificate file and a key file, or one file holding both)
// and checks that they can serve this page: they parse, the key is the
// certificate's, the certificate is valid now, names the host it serves
// (a subject alternative name, which browsers require) and may be used by
// a server. It returns the chain and the key as PEM files. Its messages
// never quote the key.
func parseKeyPair(now time.Time, uploads ...[]byte) (certPEM, keyPEM []byte, c tls.Certificate, err error) {
	var certs []*pem.Block
	var key *pem.Block
	for _, data := range uploads {
		rest := data
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			switch {
			case b.Type == "CERTIFICATE":
				certs = append(certs, b)
			case b.Type == "ENCRYPTED PRIVATE KEY" || (strings.HasSuffix(b.Type, "PRIVATE KEY") && b.Headers["Proc-Type"] != ""):
				return nil, nil, c, errors.New("the private key is protected by a passphrase: upload it without one (openssl pkey -in key.pem -out plain.pem)")
			case b.Type == "PRIVATE KEY" || b.Type == "EC PRIVATE KEY" || b.Type == "RSA PRIVATE KEY":
				if key != nil {
					return nil, nil, c, errors.New("the files hold more than one private key")
				}
				key = b
			case b.Type == "EC PARAMETERS":
				// openssl ecparam -genkey writes these before the key
			default:
				return nil, nil, c, fmt.Errorf("the files hold a %s, which is neither a certificate nor a private key", strings.ToLower(b.Type))
			}
		}
	}
	if len(certs) == 0 {
		return nil, nil, c, errors.New("the files hold no PEM certificate (-----BEGIN CERTIFICATE-----)")
	}
	if key == nil {
		return nil, nil, c, errors.New("the files hold no private key: upload the key file too, or one PEM file holding both")
	}
	for _, b := range certs {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes})...)
	}
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: key.Type, Bytes: key.Bytes})
	c, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		if strings.Contains(err.Error(), "does not match") {
			return nil, nil, c, errors.New("the private key does not belong to the certificate (the first certificate in the file must be the gateway's own)")
		}
		return nil, nil, c, fmt.Errorf("the certificate or the key does not parse: %v", strings.TrimPrefix(err.Error(), "tls: "))
	}
	leaf := c.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, nil, c, fmt.Errorf("the certificate does not parse: %v", err)
		}
		c.Leaf = leaf
	}
	switch {
	case now.After(leaf.NotAfter):
		return nil, nil, c, fmt.Errorf("the certificate expired on %s", leaf.NotAfter.UTC().Format(time.DateOnly))
	case now.Before(leaf.NotBefore):
		return nil, nil, c, fmt.Errorf("the certificate is not valid before %s (is the gateway's clock right?)", leaf.NotBefore.UTC().Format(time.DateTime+" UTC"))
	case len(leaf.DNSNames) == 0 && len(leaf.IPAddresses) == 0:
		return nil, nil, c, errors.New("the certificate has no subject alternative name: browsers accept only a certificate that lists the gateway's host name or IP address there")
	case len(leaf.ExtKeyUsage) > 0 && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny):
		return nil, nil, c, errors.New("the certificate is not for a server (its extended key usage lacks TLS server authentication)")
	}
	return certPEM, keyPEM, c, nil
}

// certNames lists the names and addresses a certificate is for.
func certNames(leaf *x509.Certificate) string {
	names := slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return strings.Join(names, ", ")
}
