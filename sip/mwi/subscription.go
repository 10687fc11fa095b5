package mwi

import (
	"context"
	"errors"
	"fmt"
	"github.com/tipring/tipring/sip/internal/retry"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tipring/tipring/sip/digest"
	"github.com/tipring/tipring/sip/internal/hostport"
	"github.com/tipring/tipring/sip/internal/sipmsg"
)

// Status is the coarse state of a subscription.
type Status int

// Subscription statuses.
const (
	// StatusSubscribing: the first SUBSCRIBE, or one after a failure or
	// a terminated subscription, is under way.
	StatusSubscribing Status = iota
	// StatusActive: the notifier accepted the subscription until
	// State.Until. When Err is set a refresh failed and the next try is
	// at NextRetry.
	StatusActive
	// StatusPending: the notifier accepted the SUBSCRIBE but has not
	// authorized it yet (Subscription-State: pending).
	StatusPending
	// StatusFailed: the last attempt failed with State.Err; the next is
	// made at State.NextRetry, or never when that is zero. Unsolicited
	// NOTIFYs are still taken.
	StatusFailed
	// StatusListening: no SUBSCRIBE is sent (Config.UnsolicitedOnly);
	// unsolicited NOTIFYs are taken.
	StatusListening
	// StatusStopped: the subscription ended (Stop or context end).
	StatusStopped
)

func (s Status) String() string {
	switch s {
	case StatusSubscribing:
		return "subscribing"
	case StatusActive:
		return "active"
	case StatusPending:
		return "pending"
	case StatusFailed:
		return "failed"
	case StatusListening:
		return "listening"
	case StatusStopped:
		return "stopped"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// State is a snapshot of a subscription, for the status page.
type State struct {
	Status Status
	// Since is when Status was entered (a refresh keeps it).
	Since time.Time
	// Until is when the subscription expires, while active or pending.
	Until time.Time
	// Expires is the lifetime the notifier last granted.
	Expires time.Duration
	// Err is the last failure.
	Err error
	// NextRetry is when the next attempt is made after a failure; zero
	// with StatusFailed means the failure is final (see ErrRejected).
	NextRetry time.Time
	// Failures counts consecutive failed attempts.
	Failures int
	// Summary is the last summary received, valid when LastNotify is
	// not zero.
	Summary    Summary
	LastNotify time.Time
}

// Subscription keeps one line subscribed to its mailbox. Create it with
// [Manager.Subscribe]; its methods are safe for concurrent use.
type Subscription struct {
	m      *Manager
	cfg    Config
	log    *slog.Logger
	rnd    func() float64
	cancel context.CancelFunc
	done   chan struct{}
	// wake tells run that a NOTIFY changed the subscription.
	wake chan struct{}
	// summaries holds the newest summary not yet read.
	summaries chan Summary

	// attempt serializes the requests of the dialog.
	attempt sync.Mutex

	mu         sync.Mutex
	state      State
	dlg        *dialog // the current subscription dialog, or nil
	terminated *TerminatedError
	reschedule bool // a NOTIFY shortened the subscription
	auth       map[int]*authEntry
	last       Summary
	delivered  bool
	closed     bool // summaries is closed
	stopCtx    context.Context
	stopErr    error
}

// dialog is one subscription dialog (RFC 6665 §4.1.2; RFC 3261 §12).
type dialog struct {
	key       dialogKey
	remoteTag string
	localSeq  uint32
	confirmed bool      // a 2xx or NOTIFY gave its remote tag and target
	target    sip.Uri   // the notifier's Contact
	routes    []sip.Uri // the route set
	until     time.Time // when the subscription expires
	granted   time.Duration
}

// authEntry is a challenge answered again with increasing nonce counts.
type authEntry struct {
	ch *digest.Challenge
	nc uint32
}

// Config returns the normalized configuration.
func (s *Subscription) Config() Config { return s.cfg }

// State returns the current state.
func (s *Subscription) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Summaries returns a channel carrying each summary that differs from the
// one before it. It holds at most one value: a slow reader skips
// intermediate summaries but always gets the latest. It is closed when
// the subscription stops.
func (s *Subscription) Summaries() <-chan Summary { return s.summaries }

// Done is closed when the subscription has stopped.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Stop ends the subscription, removing it from the notifier with an
// Expires: 0 SUBSCRIBE bounded by ctx, and stops taking unsolicited
// NOTIFYs for the line. It returns the un-SUBSCRIBE's error, if any;
// later calls return the same.
func (s *Subscription) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.stopCtx == nil {
		s.stopCtx = ctx
	}
	s.mu.Unlock()
	s.cancel()
	select {
	case <-s.done:
	case <-ctx.Done():
		return fmt.Errorf("mwi: stop %s: %w", s.cfg.User, ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopErr
}

// setState publishes st, keeping Since when the status is unchanged and
// the summary already received.
func (s *Subscription) setState(st State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setStateLocked(st)
}

func (s *Subscription) setStateLocked(st State) {
	if st.Status == s.state.Status {
		st.Since = s.state.Since
	} else {
		st.Since = time.Now()
	}
	st.Summary, st.LastNotify = s.state.Summary, s.state.LastNotify
	s.state = st
}

// nudge wakes run.
func (s *Subscription) nudge() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run is the subscription's goroutine: it subscribes, refreshes, retries
// and subscribes again after the notifier terminates the subscription.
func (s *Subscription) run(ctx context.Context) {
	defer s.finish()
	if s.cfg.UnsolicitedOnly {
		<-ctx.Done()
		return
	}
	next := time.Now()
	failures := 0
	for {
		if d := time.Until(next); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-s.wake:
				t.Stop()
				var final bool
				next, failures, final = s.onWake(next, failures)
				if final {
					<-ctx.Done()
					return
				}
				continue
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		// A NOTIFY may have arrived while the timer fired.
		select {
		case <-s.wake:
			var final bool
			if next, failures, final = s.onWake(next, failures); final {
				<-ctx.Done()
				return
			}
			if time.Until(next) > 0 {
				continue
			}
		default:
		}
		g, err := s.subscribe(ctx, s.cfg.Expires)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			failures = 0
			next = s.granted(g)
			continue
		}
		failures++
		if errors.Is(err, ErrRejected) {
			s.log.Warn("subscription rejected, not retrying", "err", err)
			s.setState(State{Status: StatusFailed, Err: err, Failures: failures})
			<-ctx.Done()
			return
		}
		wait := retry.Backoff(s.cfg.RetryBase, s.cfg.RetryMax, failures, s.rnd)
		var re *ResponseError
		if errors.As(err, &re) && re.RetryAfter > 0 {
			wait = min(re.RetryAfter, maxRetryAfter)
		}
		if errors.Is(err, errDialogGone) && failures == 1 {
			wait = 0 // the notifier forgot us: a new subscription at once
		}
		next = time.Now().Add(wait)
		st := State{Status: StatusFailed, Err: err, NextRetry: next, Failures: failures}
		s.mu.Lock()
		if d := s.dlg; d != nil && d.confirmed && time.Now().Before(d.until) {
			st.Status, st.Until, st.Expires = s.state.Status, d.until, d.granted
			s.log.Warn("refresh failed, subscription still valid", "err", err, "until", d.until, "retry_in", wait)
		} else {
			s.log.Warn("subscription failed", "err", err, "failures", failures, "retry_in", wait)
		}
		s.setStateLocked(st)
		s.mu.Unlock()
	}
}

// onWake acts on what a NOTIFY changed and returns when to try next, the
// failure count, and whether the subscription ended for good.
func (s *Subscription) onWake(next time.Time, failures int) (time.Time, int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	term := s.terminated
	s.terminated = nil
	resched := s.reschedule
	s.reschedule = false
	if term != nil {
		if term.final() {
			s.log.Warn("subscription terminated by the notifier, not retrying", "reason", term.Reason)
			s.setStateLocked(State{Status: StatusFailed, Err: term, Failures: failures + 1})
			return next, failures + 1, true
		}
		var wait time.Duration
		switch {
		case term.RetryAfter > 0:
			wait = min(term.RetryAfter, maxRetryAfter)
		case term.Reason == "deactivated" || term.Reason == "timeout":
			wait = 0 // RFC 6665 §4.1.3: subscribe again at once
		default:
			failures++
			wait = retry.Backoff(s.cfg.RetryBase, s.cfg.RetryMax, failures, s.rnd)
		}
		next = time.Now().Add(wait)
		s.log.Info("subscription terminated by the notifier, subscribing again", "reason", term.Reason, "in", wait)
		s.setStateLocked(State{Status: StatusSubscribing, Err: term, NextRetry: next, Failures: failures})
		return next, failures, false
	}
	if resched && s.dlg != nil && s.dlg.confirmed {
		left := time.Until(s.dlg.until)
		if at := time.Now().Add(retry.Refresh(left)); at.Before(next) {
			next = at
		}
	}
	return next, failures, false
}

// granted publishes an accepted subscription of lifetime g and returns
// when to refresh it.
func (s *Subscription) granted(g time.Duration) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Status: StatusActive, Expires: g, Until: time.Now().Add(g)}
	if s.state.Status == StatusPending {
		st.Status = StatusPending
	}
	if d := s.dlg; d != nil {
		st.Until = d.until
	}
	s.setStateLocked(st)
	wait := retry.Refresh(time.Until(st.Until))
	s.log.Info("subscribed", "expires", g, "refresh_in", wait.Round(time.Millisecond))
	return time.Now().Add(wait)
}

// finish removes the subscription from the notifier and the manager and
// publishes the final state.
func (s *Subscription) finish() {
	s.mu.Lock()
	ctx := s.stopCtx
	held := s.dlg != nil && s.dlg.confirmed && time.Now().Before(s.dlg.until)
	s.mu.Unlock()
	if ctx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), unsubscribeTimeout)
		defer cancel()
	}
	var err error
	if held {
		if _, uerr := s.subscribe(ctx, 0); uerr != nil {
			err = fmt.Errorf("mwi: un-subscribe %s: %w", s.cfg.User, uerr)
			s.log.Warn("un-subscribe failed", "err", uerr)
		} else {
			s.log.Info("un-subscribed")
		}
	}
	s.dropDialog()
	s.m.forget(s)
	s.mu.Lock()
	s.stopErr = err
	s.setStateLocked(State{Status: StatusStopped, Err: err})
	s.closed = true
	close(s.summaries)
	s.mu.Unlock()
	close(s.done)
}

// dropDialog forgets the current dialog, if any.
func (s *Subscription) dropDialog() {
	s.mu.Lock()
	d := s.dlg
	s.dlg = nil
	s.mu.Unlock()
	if d != nil {
		s.m.endDialog(d.key)
	}
}

// errDialogGone marks a 481 to a refresh: the notifier no longer knows
// the subscription.
var errDialogGone = errors.New("mwi: subscription dialog gone")

// subscribe sends one SUBSCRIBE asking for expires (0 removes the
// subscription) in the current dialog, or in a new one, answering
// challenges and 423, and returns the lifetime granted.
func (s *Subscription) subscribe(ctx context.Context, expires time.Duration) (time.Duration, error) {
	s.attempt.Lock()
	defer s.attempt.Unlock()
	s.mu.Lock()
	if d := s.dlg; d != nil && d.confirmed && !time.Now().Before(d.until) {
		s.mu.Unlock()
		s.dropDialog() // expired: a new one
		s.mu.Lock()
	}
	if s.dlg == nil {
		if expires == 0 {
			s.mu.Unlock()
			return 0, nil
		}
		s.dlg = &dialog{key: dialogKey{callID: randomHex(16), localTag: randomHex(8)}, localSeq: uint32(s.rnd() * (1 << 15))}
		s.m.addDialog(s.dlg.key, s)
	}
	d := s.dlg
	s.mu.Unlock()
	initial := !s.confirmed(d)

	asked := expires
	answered := make(map[int]bool)
	for range maxRounds {
		req, err := s.request(d, asked)
		if err != nil {
			s.abandon(d, initial)
			return 0, err
		}
		res, err := s.do(ctx, req)
		if err != nil {
			s.abandon(d, initial)
			return 0, err
		}
		code := res.StatusCode
		switch {
		case code >= 200 && code < 300:
			g, ok := sipmsg.Seconds(res, "Expires")
			if !ok {
				g = asked
			}
			if expires == 0 {
				if s.current(d) {
					s.dropDialog()
				}
				return 0, nil
			}
			s.mu.Lock()
			if !d.confirmed {
				d.confirm(res.To(), res.Contact(), res.GetHeaders("Record-Route"), true)
			}
			d.granted = g
			d.until = time.Now().Add(g)
			s.mu.Unlock()
			if code == 202 {
				s.log.Debug("subscription accepted, not yet authorized")
			}
			return g, nil
		case code == 401 || code == 407:
			name := "Authorization"
			if code == 407 {
				name = "Proxy-Authorization"
			}
			if err := s.learnChallenge(res, answered[code] && req.GetHeader(name) != nil); err != nil {
				s.abandon(d, initial)
				return 0, err
			}
			answered[code] = true
		case code == 423 && asked > 0:
			minExp, ok := sipmsg.Seconds(res, "Min-Expires")
			if !ok || minExp <= asked {
				s.abandon(d, initial)
				return 0, fmt.Errorf("%w: 423 without a usable Min-Expires", responseError(res))
			}
			s.log.Info("notifier demands a longer subscription", "min_expires", minExp)
			asked = minExp
		case code == 481 && !initial:
			s.dropDialog()
			return 0, fmt.Errorf("%w: %w", errDialogGone, responseError(res))
		default:
			s.abandon(d, initial)
			return 0, responseError(res)
		}
	}
	s.abandon(d, initial)
	return 0, ErrTooManyRounds
}

func (s *Subscription) confirmed(d *dialog) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return d.confirmed
}

func (s *Subscription) current(d *dialog) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dlg == d
}

// abandon forgets a dialog whose initial SUBSCRIBE failed, unless a
// NOTIFY confirmed it meanwhile.
func (s *Subscription) abandon(d *dialog, initial bool) {
	if !initial {
		return
	}
	s.mu.Lock()
	drop := s.dlg == d && !d.confirmed
	s.mu.Unlock()
	if drop {
		s.dropDialog()
	}
}

// confirm completes a dialog from a 2xx to SUBSCRIBE or from a NOTIFY
// (RFC 6665 §4.1.2.4; RFC 3261 §12.1.2): the remote tag is the To tag of
// a response or the From tag of a NOTIFY, the target its Contact, and the
// route set its Record-Route (reversed for a response).
func (d *dialog) confirm(remote interface{ Value() string }, contact *sip.ContactHeader, rr []sip.Header, response bool) {
	switch h := remote.(type) {
	case *sip.ToHeader:
		if h != nil && h.Params != nil {
			d.remoteTag, _ = h.Params.Get("tag")
		}
	case *sip.FromHeader:
		if h != nil && h.Params != nil {
			d.remoteTag, _ = h.Params.Get("tag")
		}
	}
	if contact != nil {
		d.target = contact.Address
	}
	d.routes = d.routes[:0]
	for _, h := range rr {
		if r, ok := h.(*sip.RecordRouteHeader); ok {
			d.routes = append(d.routes, r.Address)
		}
	}
	if response {
		slices.Reverse(d.routes)
	}
	d.confirmed = true
}

// request builds the next SUBSCRIBE of dialog d.
func (s *Subscription) request(d *dialog, expires time.Duration) (*sip.Request, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := &s.cfg
	aor := sip.Uri{Scheme: "sip", User: cfg.User, Host: cfg.Domain}
	target, routes, hop := aor, []sip.Uri(nil), cfg.Proxy
	if d.confirmed && d.target.Host != "" {
		target, routes = d.target, d.routes
		hop = hopOf(target, routes, cfg.Transport)
	}
	req := sip.NewRequest(sip.SUBSCRIBE, target)
	local := s.m.agent.SentBy(hop, s.cfg.Transport)
	tp := strings.ToUpper(cfg.Transport)
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: tp,
		Host: local.Addr().String(), Port: int(local.Port()), Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	via.Params.Add("rport", "")
	req.AppendHeader(via)
	for _, r := range routes {
		req.AppendHeader(&sip.RouteHeader{Address: r})
	}
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	from := &sip.FromHeader{DisplayName: cfg.DisplayName, Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", d.key.localTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{DisplayName: cfg.DisplayName, Address: aor, Params: sip.NewParams()}
	if d.remoteTag != "" {
		to.Params.Add("tag", d.remoteTag)
	}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(d.key.callID)
	req.AppendHeader(&cid)
	d.localSeq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: d.localSeq, MethodName: sip.SUBSCRIBE})
	contact := sip.Uri{Scheme: "sip", User: cfg.User, Host: local.Addr().String(), Port: int(local.Port())}
	if cfg.Transport != "udp" {
		contact.UriParams = sip.NewParams()
		contact.UriParams.Add("transport", cfg.Transport)
	}
	req.AppendHeader(&sip.ContactHeader{Address: contact})
	req.AppendHeader(sip.NewHeader("Event", EventPackage))
	req.AppendHeader(sip.NewHeader("Accept", ContentType))
	exp := sip.ExpiresHeader(uint32(expires / time.Second))
	req.AppendHeader(&exp)
	req.AppendHeader(sip.NewHeader("Allow", "NOTIFY"))
	req.AppendHeader(sip.NewHeader("User-Agent", "Tipring"))
	for _, code := range []int{407, 401} {
		e := s.auth[code]
		if e == nil {
			continue
		}
		e.nc++
		cr, err := digest.Respond(e.ch, digest.Options{
			Method: string(sip.SUBSCRIBE), URI: target.String(), Username: cfg.AuthUser, Password: cfg.Password, NC: e.nc,
		})
		if err != nil {
			return nil, &authError{why: err.Error(), resp: &ResponseError{StatusCode: code}}
		}
		name := "Authorization"
		if code == 407 {
			name = "Proxy-Authorization"
		}
		req.AppendHeader(sip.NewHeader(name, cr.String()))
	}
	req.SetBody(nil)
	req.SetTransport(tp)
	req.SetDestination(hop)
	if tp == "UDP" {
		// From the listening socket: NOTIFYs come back to the
		// advertised port.
		la := s.m.agent.LocalAddr()
		req.Laddr = sip.Addr{IP: la.IP, Port: la.Port}
	}
	return req, nil
}

// learnChallenge caches the strongest supported challenge of a 401 or
// 407; answeredFresh tells that the rejected request carried credentials
// for a challenge of the same kind.
func (s *Subscription) learnChallenge(res *sip.Response, answeredFresh bool) error {
	re := responseError(res)
	best := digest.StrongestOf(sipmsg.Values(res, digest.ChallengeHeader(res.StatusCode)))
	switch {
	case best == nil:
		return &authError{why: "no supported Digest challenge", resp: re}
	case answeredFresh && !best.Stale:
		return &authError{why: "credentials rejected", resp: re}
	case s.cfg.Password == "":
		return &authError{why: "no password configured", resp: re}
	}
	s.log.Debug("challenged", "status", res.StatusCode, "realm", best.Realm, "algorithm", best.Algorithm, "stale", best.Stale)
	s.mu.Lock()
	s.auth[res.StatusCode] = &authEntry{ch: best}
	s.mu.Unlock()
	return nil
}

// do runs one client transaction and returns its final response.
func (s *Subscription) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	s.log.Debug("sending SUBSCRIBE", "to", req.Destination(), "cseq", req.CSeq().SeqNo, "expires", headerValue(req, "Expires"))
	tx, err := s.m.agent.Client().TransactionRequest(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%w: SUBSCRIBE to %s: %w", ErrNoResponse, req.Destination(), err)
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			s.log.Debug("response", "status", res.StatusCode, "reason", res.Reason)
			return res, nil
		case <-tx.Done():
			return nil, fmt.Errorf("%w: SUBSCRIBE to %s: %w", ErrNoResponse, req.Destination(), tx.Err())
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: SUBSCRIBE to %s: %w", ErrNoResponse, req.Destination(), ctx.Err())
		}
	}
}

// hopOf returns where a request to target through routes goes first.
func hopOf(target sip.Uri, routes []sip.Uri, transport string) string {
	u := target
	if len(routes) > 0 {
		u = routes[0]
	}
	port := u.Port
	if port == 0 {
		port = int(hostport.DefaultPort(transport))
		if u.Scheme == "sips" {
			port = 5061
		}
	}
	return net.JoinHostPort(strings.Trim(u.Host, "[]"), strconv.Itoa(port))
}

// onDialogNotify takes a NOTIFY of the subscription dialog k (RFC 6665
// §4.1.3).
func (s *Subscription) onDialogNotify(req *sip.Request, tx sip.ServerTransaction, k dialogKey) {
	ss, err := parseSubscriptionState(headerValue(req, "Subscription-State"))
	if err != nil {
		s.log.Info("NOTIFY refused", "err", err)
		respond(s.log, req, tx, 400, "Bad Subscription-State")
		return
	}
	var sum Summary
	body := req.Body()
	hasBody := len(strings.TrimSpace(string(body))) > 0
	if hasBody {
		if sum, err = ParseSummary(body); err != nil {
			s.log.Info("NOTIFY with a malformed body refused", "err", err)
			respond(s.log, req, tx, 400, "Bad Message Summary")
			return
		}
	}
	s.mu.Lock()
	d := s.dlg
	if d == nil || d.key != k {
		s.mu.Unlock()
		respond(s.log, req, tx, 481, "Subscription Does Not Exist")
		return
	}
	if !d.confirmed {
		// The NOTIFY overtook the 2xx (RFC 6665 §4.1.2.4).
		d.confirm(req.From(), req.Contact(), req.GetHeaders("Record-Route"), false)
	}
	now := time.Now()
	switch ss.state {
	case "active", "pending":
		if ss.expires >= 0 {
			until := now.Add(ss.expires)
			if d.until.IsZero() || until.Before(d.until) {
				d.until = until
				s.reschedule = true
			}
		}
		st := s.state
		if st.Status == StatusActive || st.Status == StatusPending || st.Status == StatusSubscribing {
			if st.Status == StatusSubscribing {
				st.Err, st.NextRetry, st.Failures = nil, time.Time{}, 0
			}
			st.Status = StatusActive
			if ss.state == "pending" {
				st.Status = StatusPending
			}
			st.Until = d.until
			if st.Expires == 0 && ss.expires >= 0 {
				// The NOTIFY overtook the 2xx: its expires is the
				// notifier's grant until the 2xx says more.
				st.Expires = ss.expires
			}
			s.setStateLocked(st)
		}
	case "terminated":
		s.terminated = &TerminatedError{Reason: ss.reason, RetryAfter: ss.retryAfter}
	}
	s.mu.Unlock()
	respond(s.log, req, tx, 200, "OK")
	if ss.state == "terminated" {
		s.dropDialog()
	}
	if hasBody {
		s.deliver(sum, false)
	}
	s.nudge()
}

// onUnsolicited takes a NOTIFY sent to the line outside any subscription.
func (s *Subscription) onUnsolicited(req *sip.Request, tx sip.ServerTransaction) {
	sum, err := ParseSummary(req.Body())
	if err != nil {
		s.log.Info("unsolicited NOTIFY with a malformed body refused", "err", err, "source", req.Source())
		respond(s.log, req, tx, 400, "Bad Message Summary")
		return
	}
	respond(s.log, req, tx, 200, "OK")
	s.deliver(sum, true)
}

// deliver records a summary and offers it on Summaries when it differs
// from the previous one.
func (s *Subscription) deliver(sum Summary, unsolicited bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.state.Summary, s.state.LastNotify = sum, time.Now()
	if s.delivered && s.last == sum {
		return
	}
	s.last, s.delivered = sum, true
	s.log.Info("message summary", "waiting", sum.Waiting, "new", sum.Voice().New, "old", sum.Voice().Old, "unsolicited", unsolicited)
	select {
	case <-s.summaries:
	default:
	}
	s.summaries <- sum
}

// subState is a parsed Subscription-State header (RFC 6665 §8.2.3).
type subState struct {
	state      string // active, pending, terminated (lower case)
	reason     string
	expires    time.Duration // -1 when absent
	retryAfter time.Duration
}

func parseSubscriptionState(v string) (subState, error) {
	ss := subState{expires: -1}
	parts := strings.Split(v, ";")
	ss.state = strings.ToLower(strings.TrimSpace(parts[0]))
	switch ss.state {
	case "active", "pending", "terminated":
	case "":
		return ss, errors.New("mwi: NOTIFY without Subscription-State")
	default:
		// An extension state: the subscription goes on as it was.
		ss.state = "active"
	}
	for _, p := range parts[1:] {
		name, val, _ := strings.Cut(p, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		val = strings.Trim(strings.TrimSpace(val), `"`)
		switch name {
		case "reason":
			ss.reason = strings.ToLower(val)
		case "expires", "retry-after":
			n, err := strconv.ParseUint(val, 10, 32)
			if err != nil {
				return ss, fmt.Errorf("mwi: Subscription-State %s %q is not a number", name, val)
			}
			if name == "expires" {
				ss.expires = time.Duration(n) * time.Second
			} else {
				ss.retryAfter = time.Duration(n) * time.Second
			}
		}
	}
	return ss, nil
}

func responseError(res *sip.Response) *ResponseError {
	e := &ResponseError{StatusCode: res.StatusCode, Reason: res.Reason}
	if d, ok := sipmsg.Seconds(res, "Retry-After"); ok {
		e.RetryAfter = d
	}
	return e
}
