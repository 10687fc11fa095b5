package testca

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"testing"
)

func TestLoopbackVerifies(t *testing.T) {
	ca, err := New("test CA")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if _, err := srv.Cert.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool()}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	other, err := New("other CA")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Cert.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: other.Pool()}); err == nil {
		t.Error("verified against the wrong CA")
	}
	if _, err := ca.Server(nil, nil); !errors.Is(err, ErrNoNames) {
		t.Errorf("Server(nil, nil) error = %v, want ErrNoNames", err)
	}
}

func TestMutualTLSHandshake(t *testing.T) {
	ca, err := New("test CA")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	cli, err := ca.Client("line1")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{srv.TLS},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_, err = io.WriteString(c, "ok")
		done <- err
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{
		RootCAs:      ca.Pool(),
		ServerName:   "127.0.0.1",
		Certificates: []tls.Certificate{cli.TLS},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := c.ConnectionState().PeerCertificates[0].Subject.CommonName; got != "localhost" {
		t.Errorf("server CN = %q", got)
	}
}
