// Package testca makes throwaway X.509 certificate authorities for tests:
// a self-signed CA, server certificates for loopback names and addresses,
// and client certificates for mutual TLS. Keys are ECDSA P-256 and live
// only in memory until written out with [CA.WriteFiles] or
// [Leaf.WriteFiles]. Nothing here is fit for production use.
package testca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// ErrNoNames is returned by [CA.Server] when neither host names nor
// addresses are given.
var ErrNoNames = errors.New("testca: a server certificate needs at least one name or address")

// validity is how long issued certificates are valid, counted from one hour
// in the past so that small clock differences do not matter.
const validity = 24 * time.Hour

// CA is a certificate authority that signs [Leaf] certificates.
type CA struct {
	// Cert is the parsed self-signed CA certificate.
	Cert *x509.Certificate
	// CertPEM is Cert in PEM form, suitable as a trust anchor file.
	CertPEM []byte
	key     *ecdsa.PrivateKey
}

// Leaf is a certificate issued by a [CA], with its private key.
type Leaf struct {
	// Cert is the parsed certificate.
	Cert *x509.Certificate
	// CertPEM is the certificate in PEM form.
	CertPEM []byte
	// KeyPEM is the private key in PKCS #8 PEM form.
	KeyPEM []byte
	// TLS is the certificate and key ready for a tls.Config.
	TLS tls.Certificate
}

// New makes a CA whose subject common name is name.
func New(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("testca: CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Tipring tests"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("testca: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("testca: parse CA certificate: %w", err)
	}
	return &CA{Cert: cert, CertPEM: pemBlock("CERTIFICATE", der), key: key}, nil
}

// Pool returns a certificate pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Server issues a server certificate valid for the given DNS names and IP
// addresses (as subject alternative names).
func (ca *CA) Server(names []string, ips []net.IP) (*Leaf, error) {
	if len(names) == 0 && len(ips) == 0 {
		return nil, ErrNoNames
	}
	cn := ""
	if len(names) > 0 {
		cn = names[0]
	} else {
		cn = ips[0].String()
	}
	return ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		DNSNames:    names,
		IPAddresses: ips,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
}

// Loopback issues a server certificate for "localhost", 127.0.0.1 and ::1.
func (ca *CA) Loopback() (*Leaf, error) {
	return ca.Server([]string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback})
}

// Client issues a client certificate whose common name is name.
func (ca *CA) Client(name string) (*Leaf, error) {
	return ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

func (ca *CA) issue(tmpl *x509.Certificate) (*Leaf, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("testca: leaf key: %w", err)
	}
	now := time.Now()
	tmpl.SerialNumber = serial()
	tmpl.NotBefore = now.Add(-time.Hour)
	tmpl.NotAfter = now.Add(validity)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("testca: sign %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("testca: parse %q: %w", tmpl.Subject.CommonName, err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("testca: marshal key: %w", err)
	}
	return &Leaf{
		Cert:    cert,
		CertPEM: pemBlock("CERTIFICATE", der),
		KeyPEM:  pemBlock("PRIVATE KEY", pk),
		TLS:     tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert},
	}, nil
}

// WriteFiles writes the CA certificate to dir/name and returns its path.
func (ca *CA) WriteFiles(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, ca.CertPEM, 0o644); err != nil {
		return "", fmt.Errorf("testca: %w", err)
	}
	return p, nil
}

// WriteFiles writes the certificate and key to dir as base+".pem" and
// base+".key" and returns both paths.
func (l *Leaf) WriteFiles(dir, base string) (certFile, keyFile string, err error) {
	certFile = filepath.Join(dir, base+".pem")
	keyFile = filepath.Join(dir, base+".key")
	if err := os.WriteFile(certFile, l.CertPEM, 0o644); err != nil {
		return "", "", fmt.Errorf("testca: %w", err)
	}
	if err := os.WriteFile(keyFile, l.KeyPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("testca: %w", err)
	}
	return certFile, keyFile, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		// crypto/rand does not fail on supported platforms.
		panic(fmt.Sprintf("testca: serial: %v", err))
	}
	return n.Add(n, big.NewInt(1))
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
