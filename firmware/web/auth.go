package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Session and login limits.
const (
	sessionCookie  = "tipring_session"
	csrfCookie     = "tipring_csrf"
	sessionTTL     = 12 * time.Hour
	maxSessions    = 64
	maxFailEntries = 1024
	firstDelay     = time.Second
	maxDelay       = 5 * time.Minute
	minPassword    = 10
)

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("web: no randomness: %v", err)) // crypto/rand does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessions is the set of logged-in browsers, in memory: a restart logs
// everyone out, which is what a small appliance should do.
type sessions struct {
	mu  sync.Mutex
	m   map[string]time.Time // token → expiry
	now func() time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{m: map[string]time.Time{}, now: now}
}

func (s *sessions) create() (string, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for t, exp := range s.m {
		if now.After(exp) {
			delete(s.m, t)
		}
	}
	if len(s.m) >= maxSessions { // drop the session closest to expiry
		var oldest string
		for t, exp := range s.m {
			if oldest == "" || exp.Before(s.m[oldest]) {
				oldest = t
			}
		}
		delete(s.m, oldest)
	}
	tok, exp := randomToken(), now.Add(sessionTTL)
	s.m[tok] = exp
	return tok, exp
}

func (s *sessions) valid(tok string) bool {
	if tok == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.m[tok]
	if ok && s.now().After(exp) {
		delete(s.m, tok)
		return false
	}
	return ok
}

func (s *sessions) remove(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, tok)
}

func (s *sessions) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.m)
}

// limiter slows down password guessing per client address: after the n-th
// consecutive failure the client must wait first·2^(n−1) (first is
// firstDelay unless Options.LoginDelay says otherwise), at most maxDelay,
// before its next attempt is even checked.
type limiter struct {
	mu    sync.Mutex
	m     map[string]*failures
	now   func() time.Time
	first time.Duration
}

type failures struct {
	n     int
	until time.Time
}

func newLimiter(now func() time.Time, first time.Duration) *limiter {
	if first <= 0 {
		first = firstDelay
	}
	return &limiter{m: map[string]*failures{}, now: now, first: first}
}

// wait returns how long client must still wait, or 0.
func (l *limiter) wait(client string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f, ok := l.m[client]; ok {
		if d := f.until.Sub(l.now()); d > 0 {
			return d
		}
	}
	return 0
}

func (l *limiter) fail(client string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.m[client]
	if !ok {
		if len(l.m) >= maxFailEntries {
			now := l.now()
			for k, v := range l.m {
				if now.Sub(v.until) > maxDelay {
					delete(l.m, k)
				}
			}
		}
		if len(l.m) >= maxFailEntries {
			for k := range l.m { // still full: forget an arbitrary entry
				delete(l.m, k)
				break
			}
		}
		f = &failures{}
		l.m[client] = f
	}
	f.n++
	d := l.first << min(f.n-1, 20)
	if d > maxDelay || d <= 0 {
		d = maxDelay
	}
	f.until = l.now().Add(d)
	return d
}

func (l *limiter) succeed(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, client)
}

// Password strength errors.
var (
	errTooShort  = fmt.Errorf("at least %d characters, please", minPassword)
	errTooCommon = errors.New("that password is too common or too easy to guess")
	errMismatch  = errors.New("the two passwords differ")
)

// weakWords are passwords and fragments an attacker tries first on an ATA.
var weakWords = []string{"password", "passw0rd", "admin", "tipring", "123456", "qwerty", "letmein", "welcome", "changeme", "default", "secret", "iloveyou", "abc123", "111111"}

// checkPassword rejects passwords a guesser would find quickly: shorter than
// ten characters, built around a well-known word, a single repeated
// character, or a plain run such as "1234567890" or "abcdefghij". Ten
// characters from at least two kinds (letters, digits, others) or a longer
// passphrase pass.
func checkPassword(pw, confirm string) error {
	if pw != confirm {
		return errMismatch
	}
	if len([]rune(pw)) < minPassword {
		return errTooShort
	}
	low := strings.ToLower(pw)
	for _, w := range weakWords {
		if strings.Contains(low, w) && len(low) < len(w)+8 {
			return errTooCommon
		}
	}
	distinct := map[rune]bool{}
	run := 1
	var prev rune
	var kinds [3]bool
	for i, r := range low {
		distinct[r] = true
		if i > 0 && (r == prev+1 || r == prev-1) {
			run++
		} else if i > 0 {
			run = 1
		}
		prev = r
		switch {
		case unicode.IsLetter(r):
			kinds[0] = true
		case unicode.IsDigit(r):
			kinds[1] = true
		default:
			kinds[2] = true
		}
	}
	if len(distinct) < 5 || run >= len([]rune(low))-2 {
		return errTooCommon
	}
	nkinds := 0
	for _, k := range kinds {
		if k {
			nkinds++
		}
	}
	if nkinds < 2 && len([]rune(pw)) < 16 {
		return errors.New("mix letters with digits or symbols, or use a passphrase of 16 characters or more")
	}
	return nil
}

// sameOrigin reports whether a state-changing request comes from our own
// pages. Browsers send Sec-Fetch-Site on every request, and it is decisive
// when present; older browsers send Origin on POST, which must then name this
// host. (Origin "null", which browsers send for privacy-restricted requests,
// proves nothing and is refused.) A request from another site is refused
// whatever cookies it carries.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		_, host, ok := strings.Cut(o, "://")
		return ok && host == r.Host
	}
	return true
}

// checkCSRF applies the double-submit check: the form's csrf field must equal
// the SameSite=Strict csrf cookie the page was served with.
func checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return false
	}
	return sameOrigin(r) && subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
}
