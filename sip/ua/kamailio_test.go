package ua

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tipring/tipring/sip/siptest/kamailiotest"
	"github.com/tipring/tipring/sip/siptest/testca"
)

// testLog sends slog output to t.Log until the test ends, and keeps it.
type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
	all  strings.Builder
}

func (w *testLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	if !w.done {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// String returns everything logged so far.
func (w *testLog) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

func newAgent(t *testing.T, tlsConf *tls.Config) *Agent {
	t.Helper()
	a, _ := newAgentWith(t, AgentConfig{TLS: tlsConf})
	return a
}

// newAgentWith starts an agent on loopback with cfg (ListenAddr, Logger
// and a zero RequestTimeout filled in) and returns it with its log.
func newAgentWith(t *testing.T, cfg AgentConfig) (*Agent, *testLog) {
	t.Helper()
	w := &testLog{t: t}
	var out io.Writer = w
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	cfg.Logger = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 5 * time.Second
	}
	a, err := NewAgent(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return a, w
}

// waitState reads r's changes until want is true of one, within d.
func waitState(t *testing.T, r *Registration, d time.Duration, what string, want func(RegState) bool) RegState {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case s, ok := <-r.Changes():
			if !ok {
				t.Fatalf("waiting for %s: changes closed, last state %+v", what, r.State())
			}
			if want(s) {
				return s
			}
		case <-timer.C:
			t.Fatalf("waiting for %s: timed out after %v in state %+v", what, d, r.State())
		}
	}
}

func isStatus(st Status) func(RegState) bool {
	return func(s RegState) bool { return s.Status == st }
}

func contacts(t *testing.T, srv *kamailiotest.Server, user string) []kamailiotest.Contact {
	t.Helper()
	cs, err := srv.Contacts(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func account(srv *kamailiotest.Server, transport, user, password string) Account {
	reg := map[string]string{"udp": srv.UDPAddr, "tcp": srv.TCPAddr, "tls": srv.TLSAddr}[transport]
	return Account{
		User: user, Password: password, Domain: "127.0.0.1", Registrar: reg, Transport: transport,
		Expires: 60 * time.Second, RetryBase: 200 * time.Millisecond, RetryMax: time.Second,
	}
}

func TestRegisterAndStopOverEachTransport(t *testing.T) {
	srv := kamailiotest.Start(t, kamailiotest.Config{Users: []kamailiotest.User{
		{Name: "1001", Password: "pw1001"}, {Name: "1002", Password: "pw1002"}, {Name: "1003", Password: "pw1003"},
	}})
	a := newAgent(t, &tls.Config{RootCAs: srv.CA.Pool()})
	for i, tp := range []string{"udp", "tcp", "tls"} {
		t.Run(tp, func(t *testing.T) {
			user := "100" + strconv.Itoa(i+1)
			r, err := a.Register(t.Context(), account(srv, tp, user, "pw"+user))
			if err != nil {
				t.Fatal(err)
			}
			s := waitState(t, r, 10*time.Second, "registered", isStatus(StatusRegistered))
			if s.Expires != 60*time.Second || time.Until(s.Until) > 61*time.Second || time.Until(s.Until) < 50*time.Second {
				t.Errorf("registered state %+v", s)
			}
			cs := contacts(t, srv, user)
			if len(cs) != 1 {
				t.Fatalf("kamailio holds %d contacts for %s: %+v", len(cs), user, cs)
			}
			port := strconv.Itoa(a.LocalAddr().Port)
			if !strings.Contains(cs[0].Address, "sip:"+user+"@127.0.0.1:"+port) {
				t.Errorf("contact %q, want our listening address", cs[0].Address)
			}
			if tp != "udp" && !strings.Contains(cs[0].Address, "transport="+tp) {
				t.Errorf("contact %q lacks transport=%s", cs[0].Address, tp)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			if err := r.Stop(ctx); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if s := r.State(); s.Status != StatusStopped || s.Err != nil {
				t.Errorf("after Stop: %+v", s)
			}
			if cs := contacts(t, srv, user); len(cs) != 0 {
				t.Errorf("binding left after un-REGISTER: %+v", cs)
			}
		})
	}
}

func TestRejections(t *testing.T) {
	srv := kamailiotest.Start(t, kamailiotest.Config{Users: []kamailiotest.User{
		{Name: "2001", Password: "right"},
		{Name: "2002", Password: "right", Reject: 403},
	}})
	a := newAgent(t, nil)
	for _, tc := range []struct {
		name, user, password string
		want                 error
	}{
		{"wrong password", "2001", "wrong", ErrAuthRejected},
		{"403", "2002", "right", ErrForbidden},
		{"unknown user", "2999", "x", ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := a.Register(t.Context(), account(srv, "udp", tc.user, tc.password))
			if err != nil {
				t.Fatal(err)
			}
			s := waitState(t, r, 10*time.Second, "failed", isStatus(StatusFailed))
			if !errors.Is(s.Err, tc.want) || !errors.Is(s.Err, ErrRejected) {
				t.Errorf("error %v, want %v and ErrRejected", s.Err, tc.want)
			}
			if !s.NextRetry.IsZero() {
				t.Errorf("a final rejection schedules a retry at %v", s.NextRetry)
			}
			if strings.Contains(s.Err.Error(), tc.password) && tc.password != "x" {
				t.Errorf("error text shows the password: %v", s.Err)
			}
			if err := r.Stop(t.Context()); err != nil {
				t.Errorf("Stop: %v", err)
			}
		})
	}
}

func TestTLSWrongCA(t *testing.T) {
	srv := kamailiotest.Start(t, kamailiotest.Config{Users: []kamailiotest.User{{Name: "3001", Password: "pw"}}})
	other, err := testca.New("unrelated CA")
	if err != nil {
		t.Fatal(err)
	}
	a := newAgent(t, &tls.Config{RootCAs: other.Pool()})
	r, err := a.Register(t.Context(), account(srv, "tls", "3001", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	s := waitState(t, r, 10*time.Second, "failed", isStatus(StatusFailed))
	var cve *tls.CertificateVerificationError
	if !errors.As(s.Err, &cve) || !errors.Is(s.Err, ErrNoResponse) {
		t.Errorf("error %v, want a certificate verification error", s.Err)
	}
	if s.NextRetry.IsZero() {
		t.Error("no retry scheduled after a TLS failure")
	}
	if cs := contacts(t, srv, "3001"); len(cs) != 0 {
		t.Errorf("registered despite the wrong CA: %+v", cs)
	}
}

func TestMutualTLS(t *testing.T) {
	ca, err := testca.New("mtls CA")
	if err != nil {
		t.Fatal(err)
	}
	srv := kamailiotest.Start(t, kamailiotest.Config{CA: ca, RequireClientCert: true,
		Users: []kamailiotest.User{{Name: "3101", Password: "pw"}, {Name: "3102", Password: "pw"}}})
	cli, err := ca.Client("line 1")
	if err != nil {
		t.Fatal(err)
	}
	with := newAgent(t, &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{cli.TLS}})
	r, err := with.Register(t.Context(), account(srv, "tls", "3101", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, r, 10*time.Second, "registered with a client certificate", isStatus(StatusRegistered))

	without := newAgent(t, &tls.Config{RootCAs: ca.Pool()})
	r2, err := without.Register(t.Context(), account(srv, "tls", "3102", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	s := waitState(t, r2, 10*time.Second, "failed without a client certificate", isStatus(StatusFailed))
	if !errors.Is(s.Err, ErrNoResponse) {
		t.Errorf("error %v, want ErrNoResponse", s.Err)
	}
}

// TestRefreshWithStaleNonce registers for 10 s with nonces living 3 s: the
// refresh, 5 s later, reuses the cached nonce, is challenged with
// stale=true and must answer again without failing.
func TestRefreshWithStaleNonce(t *testing.T) {
	srv := kamailiotest.Start(t, kamailiotest.Config{NonceExpire: 3, Users: []kamailiotest.User{{Name: "4001", Password: "pw"}}})
	a := newAgent(t, nil)
	acc := account(srv, "tcp", "4001", "pw")
	acc.Expires = 10 * time.Second
	r, err := a.Register(t.Context(), acc)
	if err != nil {
		t.Fatal(err)
	}
	first := waitState(t, r, 10*time.Second, "registered", isStatus(StatusRegistered))
	cs := contacts(t, srv, "4001")
	if len(cs) != 1 {
		t.Fatalf("contacts %+v", cs)
	}
	second := waitState(t, r, 9*time.Second, "refreshed", func(s RegState) bool {
		return s.Status == StatusRegistered && s.Until.After(first.Until)
	})
	if !second.Until.Before(first.Until.Add(10 * time.Second)) {
		t.Errorf("refresh came too late: until %v then %v", first.Until, second.Until)
	}
	if second.Since != first.Since {
		t.Errorf("a refresh restarted the registered period")
	}
	cs2 := contacts(t, srv, "4001")
	if len(cs2) != 1 || cs2[0].CallID != cs[0].CallID {
		t.Fatalf("after refresh: %+v (before %+v)", cs2, cs)
	}
	n1, _ := strconv.Atoi(cs[0].CSeq)
	n2, _ := strconv.Atoi(cs2[0].CSeq)
	if n2 <= n1 {
		t.Errorf("CSeq did not increase: %d then %d", n1, n2)
	}
	if !srv.WaitLog("auth result -4", 2*time.Second) {
		t.Errorf("the refresh did not meet a stale nonce; kamailio log:\n%s", srv.Log())
	}
}

func TestIntervalTooBrief(t *testing.T) {
	srv := kamailiotest.Start(t, kamailiotest.Config{Users: []kamailiotest.User{{Name: "5001", Password: "pw", MinExpires: 90}}})
	a := newAgent(t, nil)
	acc := account(srv, "udp", "5001", "pw")
	acc.Expires = 30 * time.Second
	r, err := a.Register(t.Context(), acc)
	if err != nil {
		t.Fatal(err)
	}
	s := waitState(t, r, 10*time.Second, "registered", isStatus(StatusRegistered))
	if s.Expires != 90*time.Second {
		t.Errorf("granted %v, want the registrar's Min-Expires 90s", s.Expires)
	}
	if !srv.WaitLog("expires 90", 2*time.Second) {
		t.Errorf("no REGISTER with Expires 90 in the kamailio log")
	}
}

func TestServiceUnavailableRetryAfter(t *testing.T) {
	srv := kamailiotest.Start(t, kamailiotest.Config{Users: []kamailiotest.User{{Name: "6001", Password: "pw", Unavailable: 1, RetryAfter: 2}}})
	a := newAgent(t, nil)
	acc := account(srv, "udp", "6001", "pw")
	acc.RetryBase, acc.RetryMax = time.Minute, time.Hour // a backoff would far outlast the test
	r, err := a.Register(t.Context(), acc)
	if err != nil {
		t.Fatal(err)
	}
	f := waitState(t, r, 10*time.Second, "failed", isStatus(StatusFailed))
	var re *ResponseError
	if !errors.As(f.Err, &re) || re.StatusCode != 503 || re.RetryAfter != 2*time.Second || !errors.Is(f.Err, ErrServerFailure) {
		t.Fatalf("error %v, want 503 with Retry-After 2s", f.Err)
	}
	if d := time.Until(f.NextRetry); d < time.Second || d > 2*time.Second {
		t.Errorf("next retry in %v, want ≈2s", d)
	}
	failedAt := time.Now()
	waitState(t, r, 6*time.Second, "registered", isStatus(StatusRegistered))
	if d := time.Since(failedAt); d < 1500*time.Millisecond {
		t.Errorf("retried after %v, before Retry-After", d)
	}
}

func TestProxyAuthSHA256AndInstance(t *testing.T) {
	srv := kamailiotest.Start(t, kamailiotest.Config{Algorithm: "SHA-256", Users: []kamailiotest.User{
		{Name: "7001", Password: "pw"}, {Name: "7002", Password: "pw", ProxyAuth: true},
	}})
	a := newAgent(t, &tls.Config{RootCAs: srv.CA.Pool()})
	acc := account(srv, "tls", "7001", "pw")
	acc.InstanceID = "urn:uuid:6c3f8a52-2d0b-4a8e-9d3e-0d1c6a0b7e11"
	acc.RegID = 1
	r1, err := a.Register(t.Context(), acc)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := a.Register(t.Context(), account(srv, "udp", "7002", "pw"))
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, r1, 10*time.Second, "registered with SHA-256 401", isStatus(StatusRegistered))
	waitState(t, r2, 10*time.Second, "registered with SHA-256 407", isStatus(StatusRegistered))
	cs := contacts(t, srv, "7001")
	if len(cs) != 1 || !strings.Contains(cs[0].Instance, acc.InstanceID) || cs[0].RegID != "1" {
		t.Errorf("contacts %+v, want instance %s reg-id 1", cs, acc.InstanceID)
	}
	if !srv.WaitLog("challenge 7002", 2*time.Second) {
		t.Errorf("7002 was not challenged")
	}
}

// TestRefreshFailureKeepsBinding registers over TCP for 3 s, then stops
// Kamailio: the flow closes, the line tries again at once and fails, and
// its state stays registered until the old binding's expiry, with the
// error and the next retry, then turns to failed.
func TestRefreshFailureKeepsBinding(t *testing.T) {
	srv := kamailiotest.Start(t, kamailiotest.Config{MinExpires: 1, Users: []kamailiotest.User{{Name: "4101", Password: "pw"}}})
	a := newAgent(t, nil)
	acc := account(srv, "tcp", "4101", "pw")
	acc.Expires = 3 * time.Second
	acc.RetryBase, acc.RetryMax = 200*time.Millisecond, 400*time.Millisecond
	r, err := a.Register(t.Context(), acc)
	if err != nil {
		t.Fatal(err)
	}
	reg := waitState(t, r, 10*time.Second, "registered", isStatus(StatusRegistered))
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	held := waitState(t, r, 3*time.Second, "registered with a refresh error", func(s RegState) bool {
		return s.Status == StatusRegistered && s.Err != nil
	})
	if !held.Until.Equal(reg.Until) || held.Since != reg.Since || held.NextRetry.IsZero() || held.Failures < 1 {
		t.Errorf("while refreshes fail: %+v, want the old binding (until %v) and a retry", held, reg.Until)
	}
	if !errors.Is(held.Err, ErrNoResponse) {
		t.Errorf("refresh error %v, want ErrNoResponse", held.Err)
	}
	failed := waitState(t, r, 5*time.Second, "failed", isStatus(StatusFailed))
	if time.Now().Before(reg.Until) {
		t.Errorf("failed at %v, before the old binding expired at %v", failed.Since, reg.Until)
	}
	if failed.Err == nil || failed.NextRetry.IsZero() {
		t.Errorf("failed state %+v, want an error and a retry", failed)
	}
}
