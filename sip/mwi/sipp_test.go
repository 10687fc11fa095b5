package mwi

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/tipring/tipring/sip/siptest"
	"github.com/tipring/tipring/sip/siptest/sipptest"
	"github.com/tipring/tipring/sip/ua"
)

// Subscriptions against SIPp, the SIP traffic generator this project did
// not write, acting as the notifier (or the PBX sending unsolicited
// NOTIFYs) on 127.0.0.1.

func testLogger(t testing.TB) *slog.Logger { return siptest.Logger(t, slog.LevelDebug) }

// newManager starts an agent on a free loopback port and a Manager on it.
func newManager(t *testing.T) (*ua.Agent, *Manager) {
	t.Helper()
	log := testLogger(t)
	a, err := ua.NewAgent(t.Context(), ua.AgentConfig{ListenAddr: "127.0.0.1:0", Logger: log.With("who", "agent")})
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(a, log)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("manager close: %v", err)
		}
		if err := a.Close(ctx); err != nil {
			t.Errorf("agent close: %v", err)
		}
	})
	return a, m
}

// lineConfig is line 1001 (password "secret") subscribing through proxy
// over UDP, with short retries.
func lineConfig(proxy string) Config {
	return Config{
		User: "1001", Password: "secret", Domain: "127.0.0.1", Proxy: proxy, Transport: "udp",
		RetryBase: 100 * time.Millisecond, RetryMax: 400 * time.Millisecond, RequestTimeout: 5 * time.Second,
	}
}

// nextSummary returns the next summary delivered within d.
func nextSummary(t *testing.T, s *Subscription, d time.Duration) Summary {
	t.Helper()
	select {
	case sum, ok := <-s.Summaries():
		if !ok {
			t.Fatalf("summaries closed; state %+v", s.State())
		}
		return sum
	case <-time.After(d):
		t.Fatalf("no summary within %v; state %+v", d, s.State())
	}
	return Summary{}
}

// waitState polls the subscription's state until ok accepts it, within d.
func waitState(t *testing.T, s *Subscription, d time.Duration, what string, ok func(State) bool) State {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		st := s.State()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: timed out after %v in %+v", what, d, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func stop(t *testing.T, s *Subscription) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

func active(st State) bool { return st.Status == StatusActive && st.Err == nil }

// RFC 3842 §3 and §4, RFC 6665 §4.1.2, RFC 3261 §22: the SUBSCRIBE is
// challenged with 401 and sent again with credentials SIPp verifies; the
// accepted subscription reports 2 new and 8 old voice messages (0 new
// and 2 old urgent), then none waiting; Stop un-subscribes.
func TestRFC3842Section3SubscribeDigestNotify(t *testing.T) {
	run := sipptest.Start(t, sipptest.Config{Scenario: "testdata/notifier_auth.xml"})
	_, m := newManager(t)
	s, err := m.Subscribe(t.Context(), lineConfig(run.Addr))
	if err != nil {
		t.Fatal(err)
	}
	sum := nextSummary(t, s, 10*time.Second)
	want := Summary{Waiting: true, Account: "sip:*97@127.0.0.1"}
	want.Counts[ClassVoice] = Counts{New: 2, Old: 8, UrgentNew: 0, UrgentOld: 2, Reported: true}
	if sum != want {
		t.Errorf("first summary %+v, want %+v", sum, want)
	}
	st := waitState(t, s, 5*time.Second, "active", active)
	if st.Expires != 60*time.Second || time.Until(st.Until) > 61*time.Second || time.Until(st.Until) < 40*time.Second {
		t.Errorf("active state %+v, want 60 s granted", st)
	}
	sum = nextSummary(t, s, 5*time.Second)
	if sum.Waiting || sum.Voice().New != 0 || sum.Voice().Old != 10 {
		t.Errorf("second summary %+v, want none waiting, 0/10", sum)
	}
	if st := s.State(); !st.LastNotify.After(time.Now().Add(-5*time.Second)) || st.Summary != sum {
		t.Errorf("state summary %+v at %v, want %+v", st.Summary, st.LastNotify, sum)
	}
	stop(t, s)
	if st := s.State(); st.Status != StatusStopped || st.Err != nil {
		t.Errorf("stopped state %+v", st)
	}
	if _, open := <-s.Summaries(); open {
		t.Error("summaries not closed after Stop")
	}
	run.Wait(10 * time.Second)
}

// RFC 3842 §5.2 in practice: NOTIFYs a PBX sends without a subscription
// (Asterisk's unsolicited MWI) are routed by Request-URI user; an unknown
// user is answered 404, a malformed body 400, and a NOTIFY in a dialog
// that does not exist 481 (SIPp checks the codes).
func TestRFC3842UnsolicitedNotify(t *testing.T) {
	a, m := newManager(t)
	cfg := lineConfig("127.0.0.1:9")
	cfg.UnsolicitedOnly = true
	s, err := m.Subscribe(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	other := lineConfig("127.0.0.1:9")
	other.User = "1003"
	other.UnsolicitedOnly = true
	s3, err := m.Subscribe(t.Context(), other)
	if err != nil {
		t.Fatal(err)
	}
	if st := s.State(); st.Status != StatusListening {
		t.Errorf("state %+v, want listening", st)
	}
	run := sipptest.Start(t, sipptest.Config{Scenario: "testdata/unsolicited.xml", Remote: a.LocalAddr().String()})
	sum := nextSummary(t, s, 10*time.Second)
	if !sum.Waiting || sum.Voice() != (Counts{New: 3, Old: 1, UrgentNew: 1, Reported: true}) {
		t.Errorf("first summary %+v", sum)
	}
	sum = nextSummary(t, s, 10*time.Second)
	if sum.Waiting || sum.Voice() != (Counts{New: 0, Old: 4, Reported: true}) {
		t.Errorf("second summary %+v", sum)
	}
	run.Wait(10 * time.Second)
	select {
	case sum := <-s3.Summaries():
		t.Errorf("line 1003 got %+v meant for another line", sum)
	default:
	}
	if _, err := m.Subscribe(t.Context(), cfg); !errors.Is(err, ErrDuplicateUser) {
		t.Errorf("second subscription for 1001: %v, want ErrDuplicateUser", err)
	}
}

// RFC 6665 §4.1.2.1: a subscription granted for 4 s is refreshed in its
// dialog before it expires (SIPp fails if the refresh is later than
// 3.9 s), and the refresh's 60 s become the new lifetime.
func TestRFC6665Section4_1_2_1Refresh(t *testing.T) {
	run := sipptest.Start(t, sipptest.Config{Scenario: "testdata/notifier_refresh.xml"})
	_, m := newManager(t)
	s, err := m.Subscribe(t.Context(), lineConfig(run.Addr))
	if err != nil {
		t.Fatal(err)
	}
	first := waitState(t, s, 10*time.Second, "active for 4 s", func(st State) bool { return active(st) && st.Expires == 4*time.Second })
	refreshed := waitState(t, s, 8*time.Second, "refreshed for 60 s", func(st State) bool { return active(st) && st.Expires == 60*time.Second })
	if now := time.Now(); !testing.Short() && now.After(first.Until) {
		t.Errorf("refreshed at %v, after the first grant expired at %v", now, first.Until)
	}
	if !refreshed.Since.Equal(first.Since) {
		t.Errorf("a refresh changed Since: %v then %v", first.Since, refreshed.Since)
	}
	stop(t, s)
	run.Wait(10 * time.Second)
}

// RFC 6665 §4.1.3: a NOTIFY with Subscription-State terminated and
// reason=deactivated is answered 200 and followed at once by a new
// SUBSCRIBE (a new dialog), whose NOTIFY clears the indication.
func TestRFC6665Section4_1_3Deactivated(t *testing.T) {
	run := sipptest.Start(t, sipptest.Config{Scenario: "testdata/notifier_deactivated.xml", Calls: 2})
	_, m := newManager(t)
	s, err := m.Subscribe(t.Context(), lineConfig(run.Addr))
	if err != nil {
		t.Fatal(err)
	}
	if sum := nextSummary(t, s, 10*time.Second); !sum.Waiting {
		t.Errorf("first summary %+v, want waiting", sum)
	}
	sum := nextSummary(t, s, 10*time.Second)
	if sum.Waiting || sum.Voice().Old != 1 {
		t.Errorf("summary after re-subscribing %+v", sum)
	}
	st := waitState(t, s, 5*time.Second, "active again", active)
	if st.Failures != 0 {
		t.Errorf("state %+v", st)
	}
	stop(t, s)
	run.Wait(10 * time.Second)
}

// RFC 3261 §21.4.4 with RFC 6665 §4.1.2.2: 403 is final; the line is
// failed with no retry scheduled, and no SUBSCRIBE follows.
func TestRFC6665Section4_1_2_2Forbidden(t *testing.T) {
	run := sipptest.Start(t, sipptest.Config{Scenario: "testdata/notifier_forbidden.xml"})
	_, m := newManager(t)
	s, err := m.Subscribe(t.Context(), lineConfig(run.Addr))
	if err != nil {
		t.Fatal(err)
	}
	st := waitState(t, s, 10*time.Second, "failed", func(st State) bool { return st.Status == StatusFailed })
	if !errors.Is(st.Err, ErrForbidden) || !errors.Is(st.Err, ErrRejected) || !st.NextRetry.IsZero() || st.Failures != 1 {
		t.Errorf("failed state %+v (err %v), want a final 403", st, st.Err)
	}
	var re *ResponseError
	if !errors.As(st.Err, &re) || re.StatusCode != 403 {
		t.Errorf("error %v is not a 403 ResponseError", st.Err)
	}
	run.Wait(10 * time.Second)
	// With a 100 ms backoff a retry would have come by now.
	time.Sleep(time.Second)
	if st := s.State(); st.Status != StatusFailed || st.Failures != 1 {
		t.Errorf("state after waiting %+v", st)
	}
	stop(t, s)
}

// RFC 6665 §4.1.2.3: Stop sends SUBSCRIBE with Expires: 0 in the dialog,
// and the notifier's final NOTIFY (terminated) is still answered 200.
func TestRFC6665Section4_1_2_3Unsubscribe(t *testing.T) {
	run := sipptest.Start(t, sipptest.Config{Scenario: "testdata/notifier_unsubscribe.xml"})
	_, m := newManager(t)
	s, err := m.Subscribe(t.Context(), lineConfig(run.Addr))
	if err != nil {
		t.Fatal(err)
	}
	if sum := nextSummary(t, s, 10*time.Second); sum.Waiting || sum.Voice().Reported {
		t.Errorf("summary %+v", sum)
	}
	waitState(t, s, 5*time.Second, "active", active)
	stop(t, s)
	run.Wait(10 * time.Second)
}

// RFC 6665 §8.2.1: 489 Bad Event is final, but the line goes on taking
// the unsolicited NOTIFYs the same PBX sends.
func TestRFC6665Section8_2_1BadEventThenUnsolicited(t *testing.T) {
	run := sipptest.Start(t, sipptest.Config{Scenario: "testdata/notifier_bad_event.xml"})
	_, m := newManager(t)
	s, err := m.Subscribe(t.Context(), lineConfig(run.Addr))
	if err != nil {
		t.Fatal(err)
	}
	sum := nextSummary(t, s, 10*time.Second)
	if !sum.Waiting || sum.Voice().New != 1 {
		t.Errorf("summary %+v", sum)
	}
	st := s.State()
	if st.Status != StatusFailed || !errors.Is(st.Err, ErrBadEvent) || !errors.Is(st.Err, ErrRejected) || !st.NextRetry.IsZero() {
		t.Errorf("state %+v (err %v), want a final 489", st, st.Err)
	}
	if st.Summary != sum || st.LastNotify.IsZero() {
		t.Errorf("state summary %+v at %v", st.Summary, st.LastNotify)
	}
	run.Wait(10 * time.Second)
	stop(t, s)
}
