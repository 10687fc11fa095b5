package digest

import (
	"errors"
	"strings"
	"testing"
)

// TestRFC2617Section3_5 checks the example exchange of RFC 2617 §3.5.
func TestRFC2617Section3_5(t *testing.T) {
	c, err := ParseChallenge(`Digest
                 realm="testrealm@host.com",
                 qop="auth,auth-int",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41"`)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := Respond(c, Options{Method: "GET", URI: "/dir/index.html", Username: "Mufasa",
		Password: "Circle Of Life", NC: 1, Cnonce: "0a4f113b"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "6629fae49393a05397450978507c4ef1"; cr.Response != want {
		t.Errorf("response = %s, want %s", cr.Response, want)
	}
	s := cr.String()
	for _, part := range []string{`username="Mufasa"`, `nc=00000001`, `qop=auth`, `cnonce="0a4f113b"`, `opaque="5ccc069c403ebaf9f0171e9517f40e41"`} {
		if !strings.Contains(s, part) {
			t.Errorf("%s lacks %s", s, part)
		}
	}
}

// TestRFC7616Section3_9_1 checks the MD5 and SHA-256 examples of RFC 7616
// §3.9.1.
func TestRFC7616Section3_9_1(t *testing.T) {
	for _, tc := range []struct{ alg, want string }{
		{"MD5", "8ca523f5e9506fed4657c9700eebdbec"},
		{"SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	} {
		c, err := ParseChallenge(`Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=` + tc.alg +
			`, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`)
		if err != nil {
			t.Fatal(err)
		}
		cr, err := Respond(c, Options{Method: "GET", URI: "/dir/index.html", Username: "Mufasa",
			Password: "Circle of Life", NC: 1, Cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"})
		if err != nil {
			t.Fatal(err)
		}
		if cr.Response != tc.want {
			t.Errorf("%s: response = %s, want %s", tc.alg, cr.Response, tc.want)
		}
		if !strings.Contains(cr.String(), "algorithm="+tc.alg) {
			t.Errorf("%s: %s does not echo the algorithm", tc.alg, cr.String())
		}
	}
}

// TestRFC2069 checks the qop-less form: response = H(HA1:nonce:HA2).
func TestRFC2069(t *testing.T) {
	c := &Challenge{Realm: "testrealm@host.com", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093"}
	cr, err := Respond(c, Options{Method: "GET", URI: "/dir/index.html", Username: "Mufasa", Password: "Circle Of Life"})
	if err != nil {
		t.Fatal(err)
	}
	// Worked out with coreutils md5sum: HA1 = MD5("Mufasa:testrealm@host.com:Circle Of Life")
	// = 939e7578…, HA2 = MD5("GET:/dir/index.html") = 39aff3a2…, response =
	// MD5(HA1 ":" nonce ":" HA2).
	if want := "670fd8c2df070c60b045671b8b24ff02"; cr.Response != want {
		t.Errorf("response = %s, want %s", cr.Response, want)
	}
	if strings.Contains(cr.String(), "nc=") || cr.Cnonce != "" {
		t.Errorf("qop-less credentials carry nc or cnonce: %s", cr.String())
	}
}

func TestStrongest(t *testing.T) {
	md5 := &Challenge{Nonce: "a", Algorithm: "MD5", QOP: []string{"auth"}}
	sha := &Challenge{Nonce: "b", Algorithm: "SHA-256", QOP: []string{"auth"}}
	odd := &Challenge{Nonce: "c", Algorithm: "SHA-1"}
	if got := Strongest([]*Challenge{md5, odd, sha}); got != sha {
		t.Errorf("Strongest = %+v, want SHA-256", got)
	}
	if got := Strongest([]*Challenge{odd}); got != nil {
		t.Errorf("Strongest of unsupported = %+v", got)
	}
	if _, err := Respond(odd, Options{}); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("Respond(SHA-1) error = %v", err)
	}
	if _, err := Respond(&Challenge{Nonce: "x", QOP: []string{"token"}}, Options{}); !errors.Is(err, ErrUnsupportedQop) {
		t.Errorf("Respond(qop=token) error = %v", err)
	}
}

func TestParseChallengeErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{`Basic realm="x"`, ErrNotDigest},
		{`Digest realm="x"`, ErrMalformed},
		{`Digest realm="x, nonce="y"`, ErrMalformed},
		{`Digest realm`, ErrMalformed},
		{`Digest nonce="a" junk, realm="b"`, ErrMalformed},
	} {
		if _, err := ParseChallenge(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("ParseChallenge(%q) error = %v, want %v", tc.in, err, tc.want)
		}
	}
	c, err := ParseChallenge(`digest realm="a\"b", nonce=xyz, stale=TRUE, algorithm=sha-256-sess, qop="auth"`)
	if err != nil {
		t.Fatal(err)
	}
	if c.Realm != `a"b` || c.Nonce != "xyz" || !c.Stale || !c.Supported() {
		t.Errorf("parsed %+v", c)
	}
}

func FuzzParseChallenge(f *testing.F) {
	f.Add(`Digest realm="x", nonce="y", qop="auth,auth-int", algorithm=SHA-256, stale=true`)
	f.Add(`Digest nonce=abc`)
	f.Add(`Digest realm="\"`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseChallenge(s)
		if err != nil {
			return
		}
		if c.Nonce == "" {
			t.Fatal("accepted a challenge without nonce")
		}
		if c.Supported() {
			if _, err := Respond(c, Options{Method: "REGISTER", URI: "sip:x", Username: "u", Password: "p"}); err != nil {
				t.Fatalf("supported challenge %+v: %v", c, err)
			}
		}
	})
}

// RFC 8760 §2.4 (and RFC 7616 §3.7): a server may offer one challenge per
// algorithm; the client answers the strongest it supports, and a value it
// cannot parse is skipped, not fatal. 407 carries them in
// Proxy-Authenticate, 401 in WWW-Authenticate (RFC 3261 §22.2, §22.3).
func TestStrongestOfHeaderValues(t *testing.T) {
	ch := StrongestOf([]string{
		`Digest realm="a", nonce="1", algorithm=MD5, qop="auth"`,
		`Digest realm="a", nonce="2", algorithm=SHA-256, qop="auth"`,
		`Digest realm="a" nonce broken`,
		`Basic realm="a"`,
	})
	if ch == nil || ch.Algorithm != "SHA-256" || ch.Nonce != "2" {
		t.Fatalf("strongest: %+v", ch)
	}
	if StrongestOf([]string{`Basic realm="a"`}) != nil {
		t.Error("a Basic challenge was taken")
	}
	if ChallengeHeader(407) != "Proxy-Authenticate" || ChallengeHeader(401) != "WWW-Authenticate" {
		t.Error("challenge headers")
	}
}
