package call

import (
	"context"
	"testing"
	"time"

	"github.com/tipring/tipring/sip/siptest/sipptest"
	"github.com/tipring/tipring/sip/ua"
)

// Registration by ua.Agent.Register against SIPp acting as the registrar.
// They live here, not in sip/ua, because sipptest is internal to
// sip/call.

// registerSIPp starts a SIPp registrar scenario and registers line 1001
// (password "secret", Expires 60 s) with it over UDP.
func registerSIPp(t *testing.T, scenario string) (*sipptest.Scenario, *ua.Registration) {
	t.Helper()
	s := sipptest.Start(t, sipptest.Config{Scenario: scenario, Timeout: 30 * time.Second})
	f := newFixture(t, nil)
	r, err := f.agent.Register(t.Context(), ua.Account{
		User: "1001", Password: "secret", Domain: "127.0.0.1", Registrar: s.Addr, Transport: "udp",
		Expires: 60 * time.Second, RetryBase: 10 * time.Second, RetryMax: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, r
}

// regState returns the first state of r within d that ok accepts.
func regState(t *testing.T, r *ua.Registration, d time.Duration, what string, ok func(ua.RegState) bool) ua.RegState {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case st, open := <-r.Changes():
			if !open {
				t.Fatalf("waiting for %s: registration stopped", what)
			}
			if ok(st) {
				return st
			}
		case <-timer.C:
			t.Fatalf("waiting for %s: timed out after %v in %+v", what, d, r.State())
		}
	}
}

func registeredState(st ua.RegState) bool { return st.Status == ua.StatusRegistered && st.Err == nil }

// stopRegistration un-REGISTERs, which the scenario expects and accepts.
func stopRegistration(t *testing.T, r *ua.Registration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// RFC 3261 §22.4 with RFC 2617 §3.2.2: a 401 offering qop=auth is answered
// with an Authorization SIPp verifies (qop, nc, cnonce, digest), and the
// 200 makes the line registered for the granted 60 s.
func TestRFC3261Section22RegisterDigestQop(t *testing.T) {
	s, r := registerSIPp(t, "testdata/registrar_auth.xml")
	st := regState(t, r, 10*time.Second, "registered", registeredState)
	if st.Expires != 60*time.Second || time.Until(st.Until) > 61*time.Second || time.Until(st.Until) < 50*time.Second {
		t.Errorf("registered state %+v", st)
	}
	stopRegistration(t, r)
	s.Wait(10 * time.Second)
}

// RFC 3261 §10.2.8 and §10.3: a 423 with Min-Expires: 120 is followed by
// a REGISTER asking for at least 120 s (SIPp checks), which is granted.
func TestRFC3261Section10_2_8IntervalTooBrief(t *testing.T) {
	s, r := registerSIPp(t, "testdata/registrar_423.xml")
	st := regState(t, r, 10*time.Second, "registered", registeredState)
	if st.Expires != 120*time.Second || time.Until(st.Until) < 110*time.Second {
		t.Errorf("registered state %+v, want 120 s granted", st)
	}
	stopRegistration(t, r)
	s.Wait(10 * time.Second)
}

// RFC 3261 §21.5.4 and §20.33: a 503 with Retry-After: 2 schedules the
// retry 2 s later, not at the 10 s backoff, and SIPp sees it arrive no
// sooner than 1.9 s after its 503; the retry is accepted.
func TestRFC3261Section21_5_4RetryAfter(t *testing.T) {
	s, r := registerSIPp(t, "testdata/registrar_503.xml")
	failed := regState(t, r, 10*time.Second, "failed", func(st ua.RegState) bool { return st.Status == ua.StatusFailed })
	seen := time.Now()
	if d := failed.NextRetry.Sub(failed.Since); d < 1900*time.Millisecond || d > 2100*time.Millisecond {
		t.Errorf("next retry %v after the failure, want Retry-After's 2 s (state %+v)", d, failed)
	}
	regState(t, r, 10*time.Second, "registered", registeredState)
	if d := time.Since(seen); d < 1800*time.Millisecond {
		t.Errorf("registered %v after the 503, want the retry no sooner than 2 s", d)
	}
	stopRegistration(t, r)
	s.Wait(10 * time.Second)
}
