package ua

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/tipring/tipring/sip/internal/retry"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/netip"
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

// Defaults for an Account.
const (
	defaultExpires = time.Hour
	// maxRounds bounds the requests of one attempt: challenges, a stale
	// nonce, 423 answers, a Contact corrected for a NAT.
	maxRounds = 6
	// unregisterTimeout bounds an un-REGISTER when the registration's
	// context ends without Stop, and the un-REGISTER of a registrar left
	// behind by a failover.
	unregisterTimeout = 5 * time.Second
	// defaultFailoverAfter is how many consecutive failed attempts make a
	// line move to its other registrar.
	defaultFailoverAfter = 2
	// defaultPrimaryRetry is how often a line registered with its backup
	// tries its primary registrar again.
	defaultPrimaryRetry = 5 * time.Minute
)

// Account is one line's SIP identity and registrar.
type Account struct {
	// User is the user part of the address of record (sip:User@Domain)
	// and of the Contact.
	User string
	// AuthUser is the digest user name; default User.
	AuthUser string
	// Password is the digest password. It is never logged.
	Password string
	// Domain is the address-of-record domain and the Request-URI.
	Domain string
	// DisplayName goes into From and To.
	DisplayName string
	// Registrar is where REGISTERs are sent: an IP address or host name,
	// with an optional port; default Domain. A host name without a port
	// is located with DNS SRV records (RFC 3263: _sips._tcp for TLS,
	// _sip._tcp for TCP, _sip._udp for UDP), falling back to its A/AAAA
	// records at port 5061 for TLS and 5060 otherwise; every address
	// found is tried in turn when one does not answer.
	Registrar string
	// Backup is an optional secondary registrar, in the same form. After
	// FailoverAfter consecutive failed attempts the line registers there;
	// while it does, it tries the primary again every PrimaryRetry and
	// moves back as soon as the primary accepts it, removing its binding
	// from the registrar it leaves.
	Backup string
	// FailoverAfter is the number of consecutive failed attempts that
	// move the line to its other registrar. Default 2.
	FailoverAfter int
	// PrimaryRetry is how often a line registered with Backup tries the
	// primary again. Default 5 minutes.
	PrimaryRetry time.Duration
	// OutboundProxy, when set, is where the primary registration's
	// REGISTERs are sent instead of Registrar (same form), with a
	// pre-loaded Route header naming it (RFC 3261 §8.1.2); the
	// Request-URI stays sip:Domain. Backup registrations go straight to
	// Backup.
	OutboundProxy string
	// Transport is "udp", "tcp", "tls" (the default), or "auto": the
	// transport SRV records offer, preferring TLS, then TCP, then UDP
	// (UDP when the name has no SRV records).
	Transport string
	// Expires is the binding lifetime asked for; default one hour. The
	// registrar may grant less, or demand more with 423.
	Expires time.Duration
	// InstanceID, when set, is the RFC 5626 instance URN (for example
	// "urn:uuid:…") put in the Contact's +sip.instance parameter, with
	// RegID as reg-id when it is positive.
	InstanceID string
	RegID      int
	// RetryBase and RetryMax shape the backoff after failures (defaults
	// 30 s and 30 min, RFC 5626 §4.5).
	RetryBase, RetryMax time.Duration
}

func (acc *Account) normalize() error {
	if err := hostport.CheckAOR(acc.User, acc.Domain); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidAccount, err)
	}
	if acc.AuthUser == "" {
		acc.AuthUser = acc.User
	}
	t, err := hostport.Transport(acc.Transport, "auto")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidAccount, err)
	}
	acc.Transport = t
	if acc.Registrar == "" {
		acc.Registrar = acc.Domain
	}
	for _, hop := range []*string{&acc.Registrar, &acc.Backup, &acc.OutboundProxy} {
		if *hop == "" {
			continue
		}
		host, port, err := hostport.Split(*hop)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidAccount, err)
		}
		// An IP address needs no lookup: give it its default port now.
		if ip, err := netip.ParseAddr(host); err == nil && port == 0 && acc.Transport != "auto" {
			*hop = netip.AddrPortFrom(ip, hostport.DefaultPort(acc.Transport)).String()
		}
	}
	if acc.Expires <= 0 {
		acc.Expires = defaultExpires
	}
	acc.Expires = acc.Expires.Truncate(time.Second)
	if acc.RetryBase <= 0 {
		acc.RetryBase = defaultRetryBase
	}
	if acc.RetryMax <= 0 {
		acc.RetryMax = defaultRetryMax
	}
	acc.RetryMax = max(acc.RetryMax, acc.RetryBase)
	if acc.FailoverAfter <= 0 {
		acc.FailoverAfter = defaultFailoverAfter
	}
	if acc.PrimaryRetry <= 0 {
		acc.PrimaryRetry = defaultPrimaryRetry
	}
	return nil
}

// Status is the coarse state of a registration.
type Status int

// Registration statuses.
const (
	// StatusRegistering: the first attempt, or one after a failure, is
	// under way.
	StatusRegistering Status = iota
	// StatusRegistered: the registrar holds our binding until
	// RegState.Until. When Err is set, refreshing it has failed and the
	// next try is at NextRetry; the status turns to StatusFailed if the
	// binding expires first.
	StatusRegistered
	// StatusFailed: the last attempt failed with RegState.Err; the next
	// is made at RegState.NextRetry, or never when that is zero.
	StatusFailed
	// StatusStopped: the registration ended (Stop or context end).
	StatusStopped
)

func (s Status) String() string {
	switch s {
	case StatusRegistering:
		return "registering"
	case StatusRegistered:
		return "registered"
	case StatusFailed:
		return "failed"
	case StatusStopped:
		return "stopped"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// RegState is a snapshot of a registration, for the line controller and the
// status page.
type RegState struct {
	Status Status
	// Since is when Status was entered (a refresh keeps it).
	Since time.Time
	// Until is when the binding expires, while registered.
	Until time.Time
	// Expires is the lifetime the registrar last granted.
	Expires time.Duration
	// Registrar is the registrar (or outbound proxy) the line is
	// registered with or trying, as configured.
	Registrar string
	// OnBackup tells that Registrar is the account's Backup.
	OnBackup bool
	// Err is the last failure: when failed, when a refresh of a binding
	// still held failed, and possibly when stopped.
	Err error
	// NextRetry is when the next attempt is made after a failure; zero
	// means the failure is final (see ErrRejected) and nothing more is
	// tried.
	NextRetry time.Time
	// Failures counts consecutive failed attempts with Registrar.
	Failures int
	// Contact is the Contact URI the registrar holds for the line, while
	// registered: with the public address the registrar reported (Via
	// received and rport, RFC 3581) when it saw the line behind a NAT.
	// Transport ("udp", "tcp" or "tls") is the transport it names and
	// Public its address. Calls put the same address in their Contacts.
	Contact   string
	Transport string
	Public    netip.AddrPort
}

// Registration keeps one account registered. Create it with
// [Agent.Register]; its methods are safe for concurrent use.
type Registration struct {
	agent *Agent
	acc   Account
	log   *slog.Logger
	rnd   func() float64

	primary *session
	backup  *session // nil without Account.Backup
	watched *flow    // the active registration's flow; owned by run
	leaving sync.WaitGroup

	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	state   RegState
	changes chan RegState
	stopCtx context.Context
	stopErr error
}

// session is the registration of one account with one registrar: the
// Call-ID, From tag and CSeq series of RFC 3261 §10.2 and what the
// registrar has granted.
type session struct {
	name  string // "primary" or "backup", for logs
	hop   string // where requests go: registrar or outbound proxy
	proxy bool   // hop is an outbound proxy: pre-load a Route to it
	log   *slog.Logger

	// mu is held for a whole attempt, which may run in the background
	// when the session's registrar is being left.
	mu      sync.Mutex
	callID  string
	fromTag string
	cseq    uint32
	expires time.Duration
	auth    map[int]*authCache // by challenge status, 401 or 407
	bound   bool               // a binding may exist
	until   time.Time          // when it expires
	contact *sip.Uri           // the Contact bound
	last    target             // the target that answered last
}

func (r *Registration) newSession(name, hop string, proxy bool) *session {
	return &session{
		name:    name,
		hop:     hop,
		proxy:   proxy,
		log:     r.log.With("server", name, "hop", hop),
		callID:  randomHex(16),
		fromTag: randomHex(8),
		cseq:    uint32(mrand.IntN(1 << 15)),
		expires: r.acc.Expires,
		auth:    make(map[int]*authCache),
	}
}

// binding reports whether s may hold a binding, and until when.
func (s *session) binding() (bool, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bound, s.until
}

// lapse forgets a binding that has expired.
func (s *session) lapse() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bound = false
	s.contact = nil
}

// authCache is a challenge kept to authorize later requests with
// increasing nonce counts (RFC 7616 §3.4).
type authCache struct {
	ch *digest.Challenge
	nc uint32
}

// Register validates acc and starts keeping it registered in the
// background until ctx ends or [Registration.Stop] is called; either way
// an existing binding is removed.
func (a *Agent) Register(ctx context.Context, acc Account) (*Registration, error) {
	if err := acc.normalize(); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.shut {
		return nil, ErrAgentClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &Registration{
		agent:   a,
		acc:     acc,
		log:     a.log.With("line", acc.User+"@"+acc.Domain, "transport", acc.Transport),
		rnd:     mrand.Float64,
		cancel:  cancel,
		done:    make(chan struct{}),
		changes: make(chan RegState, 1),
	}
	if acc.OutboundProxy != "" {
		r.primary = r.newSession("primary", acc.OutboundProxy, true)
	} else {
		r.primary = r.newSession("primary", acc.Registrar, false)
	}
	if acc.Backup != "" {
		r.backup = r.newSession("backup", acc.Backup, false)
	}
	r.state = RegState{Status: StatusRegistering, Since: time.Now(), Registrar: r.primary.hop}
	r.changes <- r.state
	a.regs[r] = struct{}{}
	go r.run(ctx)
	return r, nil
}

// Account returns the normalized account being registered.
func (r *Registration) Account() Account { return r.acc }

// State returns the current state.
func (r *Registration) State() RegState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// Changes returns a channel carrying the newest state after each change.
// It holds at most one value: a slow reader skips intermediate states but
// always gets the latest. It is closed after the StatusStopped state.
func (r *Registration) Changes() <-chan RegState { return r.changes }

// Done is closed when the registration has stopped.
func (r *Registration) Done() <-chan struct{} { return r.done }

// Stop ends the registration and removes the binding with an un-REGISTER
// (Expires: 0) bounded by ctx. It returns the un-REGISTER's error, if
// any; later calls return the same.
func (r *Registration) Stop(ctx context.Context) error {
	r.mu.Lock()
	if r.stopCtx == nil {
		r.stopCtx = ctx
	}
	r.mu.Unlock()
	r.cancel()
	select {
	case <-r.done:
	case <-ctx.Done():
		return fmt.Errorf("ua: stop %s: %w", r.acc.User, ctx.Err())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopErr
}

func (r *Registration) setState(s RegState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.Status == r.state.Status {
		s.Since = r.state.Since
	} else {
		s.Since = time.Now()
	}
	r.state = s
	select {
	case <-r.changes:
	default:
	}
	r.changes <- s
}

// setWatched makes f (already acquired) the flow whose failure triggers a
// new registration, releasing the previous one.
func (r *Registration) setWatched(f *flow) {
	if r.watched == f {
		if f != nil {
			r.agent.releaseFlow(f) // the caller's extra reference
		}
		return
	}
	r.agent.releaseFlow(r.watched)
	r.watched = f
}

// run is the registration's goroutine: it registers with the active
// registrar, refreshes, retries, fails over, probes the primary while on
// the backup and re-registers when the flow fails.
func (r *Registration) run(ctx context.Context) {
	defer r.finish()
	cur := r.primary
	failures := 0
	var lastErr error
	var next, probe time.Time // next attempt with cur; next try of the primary
	for {
		bound, until := cur.binding()
		wake := next
		lapsing := lastErr != nil && bound
		if lapsing && until.Before(wake) {
			wake = until
		}
		if !probe.IsZero() && probe.Before(wake) {
			wake = probe
		}
		var flowDead <-chan struct{}
		if r.watched != nil {
			flowDead = r.watched.dead
		}
		if d := time.Until(wake); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-flowDead:
				t.Stop()
				r.log.Warn("flow to registrar failed, registering again", "err", r.watched.err())
				r.setWatched(nil)
				next = time.Now()
				continue
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		now := time.Now()
		switch {
		case lapsing && !now.Before(until) && now.Before(next):
			// The old binding ran out while refreshes kept failing.
			cur.lapse()
			r.log.Warn("binding expired while the registrar failed", "err", lastErr)
			r.setState(RegState{Status: StatusFailed, Registrar: cur.hop, OnBackup: cur == r.backup,
				Err: lastErr, NextRetry: next, Failures: failures})
			continue
		case !probe.IsZero() && !now.Before(probe) && now.Before(next):
			g, f, err := r.attempt(ctx, r.primary, true)
			if ctx.Err() != nil {
				r.agent.releaseFlow(f)
				return
			}
			if err != nil {
				probe = now.Add(r.acc.PrimaryRetry)
				r.log.Info("primary registrar still failing", "err", err, "next_try_in", r.acc.PrimaryRetry)
				continue
			}
			r.log.Info("primary registrar answers again, leaving the backup")
			r.leave(r.backup)
			r.setWatched(f)
			cur, failures, lastErr, probe = r.primary, 0, nil, time.Time{}
			next = r.registered(cur, g)
			continue
		}

		if lastErr != nil && !bound {
			r.setState(RegState{Status: StatusRegistering, Registrar: cur.hop, OnBackup: cur == r.backup,
				Failures: failures, Err: lastErr})
		}
		g, f, err := r.attempt(ctx, cur, true)
		if ctx.Err() != nil {
			r.agent.releaseFlow(f)
			return
		}
		if err == nil {
			failures, lastErr = 0, nil
			r.setWatched(f)
			next = r.registered(cur, g)
			if cur == r.backup && probe.IsZero() {
				probe = time.Now().Add(r.acc.PrimaryRetry)
			}
			continue
		}
		failures++
		lastErr = err
		if errors.Is(err, ErrRejected) {
			r.log.Warn("registration rejected, not retrying", "err", err)
			r.setState(RegState{Status: StatusFailed, Registrar: cur.hop, OnBackup: cur == r.backup, Err: err, Failures: failures})
			<-ctx.Done()
			return
		}
		if r.backup != nil && failures >= r.acc.FailoverAfter {
			other := r.backup
			if cur == r.backup {
				other = r.primary
			}
			r.log.Warn("registrar failing, moving to the other one", "from", cur.hop, "to", other.hop, "err", err, "failures", failures)
			r.leave(cur)
			cur, failures, probe, next = other, 0, time.Time{}, time.Now()
			r.setState(RegState{Status: StatusRegistering, Registrar: cur.hop, OnBackup: cur == r.backup, Err: err})
			continue
		}
		wait := retry.Backoff(r.acc.RetryBase, r.acc.RetryMax, failures, r.rnd)
		var re *ResponseError
		if errors.As(err, &re) && re.RetryAfter > 0 {
			wait = min(re.RetryAfter, maxRetryAfter)
		}
		next = time.Now().Add(wait)
		st := RegState{Status: StatusFailed, Registrar: cur.hop, OnBackup: cur == r.backup, Err: err, NextRetry: next, Failures: failures}
		if bound, until := cur.binding(); bound && time.Now().Before(until) {
			old := r.State()
			st.Status, st.Until, st.Expires = StatusRegistered, until, old.Expires
			st.Contact, st.Transport, st.Public = old.Contact, old.Transport, old.Public
			r.log.Warn("refresh failed, old binding still valid", "err", err, "until", until, "retry_in", wait)
		} else {
			r.log.Warn("registration failed", "err", err, "failures", failures, "retry_in", wait)
		}
		r.setState(st)
	}
}

// registered publishes a successful registration with s granting g and
// returns when to refresh it.
func (r *Registration) registered(s *session, g time.Duration) time.Time {
	_, until := s.binding()
	wait := retry.Refresh(g)
	st := RegState{Status: StatusRegistered, Until: until, Expires: g, Registrar: s.hop, OnBackup: s == r.backup}
	s.mu.Lock()
	if s.contact != nil {
		st.Contact, st.Transport = s.contact.String(), transportOf(s.contact)
		if ip, err := netip.ParseAddr(strings.Trim(s.contact.Host, "[]")); err == nil {
			st.Public = netip.AddrPortFrom(ip.Unmap(), uint16(s.contact.Port))
		}
	}
	s.mu.Unlock()
	r.setState(st)
	s.log.Info("registered", "expires", g, "refresh_in", wait)
	return until.Add(wait - g)
}

// leave removes, in the background, the binding held with the registrar
// of s, which the line no longer uses. The flow of the active
// registration, if any, is handed over and released afterwards.
func (r *Registration) leave(s *session) {
	f := r.watched
	r.watched = nil
	if bound, until := s.binding(); !bound || !time.Now().Before(until) {
		r.agent.releaseFlow(f)
		return
	}
	r.leaving.Go(func() {
		defer r.agent.releaseFlow(f)
		ctx, cancel := context.WithTimeout(context.Background(), unregisterTimeout)
		defer cancel()
		if _, _, err := r.attempt(ctx, s, false); err != nil {
			s.log.Info("could not remove the binding from the registrar left", "err", err)
			return
		}
		s.log.Info("removed the binding from the registrar left")
	})
}

// finish removes every binding that may exist and publishes the final
// state.
func (r *Registration) finish() {
	r.leaving.Wait()
	r.mu.Lock()
	ctx := r.stopCtx
	r.mu.Unlock()
	if ctx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), unregisterTimeout)
		defer cancel()
	}
	var errs []error
	for _, s := range []*session{r.primary, r.backup} {
		if s == nil {
			continue
		}
		if bound, until := s.binding(); !bound || !time.Now().Before(until) {
			continue
		}
		if _, _, err := r.attempt(ctx, s, false); err != nil {
			errs = append(errs, fmt.Errorf("ua: un-register %s from %s: %w", r.acc.User, s.hop, err))
			s.log.Warn("un-register failed", "err", err)
		} else {
			s.log.Info("un-registered")
		}
	}
	r.agent.releaseFlow(r.watched)
	r.watched = nil
	err := errors.Join(errs...)
	r.agent.forget(r)
	r.mu.Lock()
	r.stopErr = err
	r.mu.Unlock()
	r.setState(RegState{Status: StatusStopped, Err: err})
	close(r.changes)
	close(r.done)
}

// attempt runs one registration with s (register true) or removes its
// binding (register false), trying each target of its next hop in turn
// until one gives a final answer other than 503. It returns the granted
// lifetime and, over TCP or TLS, the flow used (acquired, for the caller
// to release).
func (r *Registration) attempt(ctx context.Context, s *session, register bool) (time.Duration, *flow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !register && s.contact == nil {
		s.bound = false
		return 0, nil, nil
	}
	targets, err := r.agent.resolve(ctx, s.hop, r.acc.Transport)
	if err != nil {
		return 0, nil, err
	}
	// RFC 3263 §4.3 asks to stay with a target that worked.
	if i := slices.Index(targets, s.last); i > 0 {
		targets = slices.Insert(slices.Delete(targets, i, i+1), 0, s.last)
	}
	var errs []error
	for i, t := range targets {
		g, f, err := r.attemptTarget(ctx, s, t, register)
		if err == nil {
			s.last = t
			return g, f, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", t, err))
		var re *ResponseError
		next := errors.Is(err, ErrNoResponse) || (errors.As(err, &re) && re.StatusCode == 503)
		if ctx.Err() != nil || !next {
			break
		}
		if i+1 < len(targets) {
			s.log.Info("target failed, trying the next", "target", t.String(), "err", err)
		}
	}
	if len(errs) == 1 {
		return 0, nil, errors.Unwrap(errs[0])
	}
	return 0, nil, errors.Join(errs...)
}

// attemptTarget registers (or un-registers) with one target: REGISTER,
// answering challenges and 423, and registering again with a corrected
// Contact when the answer shows a NAT (RFC 3581).
func (r *Registration) attemptTarget(ctx context.Context, s *session, t target, register bool) (_ time.Duration, _ *flow, err error) {
	var f *flow
	var local netip.AddrPort // where the request leaves from
	src, err := r.agent.sourceIP(t.addr.String())
	if err != nil {
		return 0, nil, err
	}
	viaPort := r.agent.listenPort(t.transport)
	fresh := true
	if t.transport == "udp" {
		local = netip.AddrPortFrom(src, viaPort)
	} else {
		if f, fresh, err = r.agent.acquireFlow(ctx, t); err != nil {
			return 0, nil, err
		}
		defer func() {
			if err != nil || !register {
				r.agent.releaseFlow(f)
			}
		}()
		local = f.local
	}
	own := r.contactURI(t.transport, netip.AddrPortFrom(src, viaPort))
	contact := own
	if s.contact != nil && transportOf(s.contact) == t.transport {
		contact = *s.contact // keep a public address learnt before
	}
	expires := s.expires
	if !register {
		contact, expires = *s.contact, 0
	}
	corrected := false
	answered := map[int]bool{} // challenge statuses answered with fresh credentials
	for range maxRounds {
		if f != nil && f.err() != nil {
			// The flow died since it was acquired; without it sipgo
			// would dial a connection of its own.
			r.agent.releaseFlow(f)
			if f, fresh, err = r.agent.acquireFlow(ctx, t); err != nil {
				f = nil
				return 0, nil, err
			}
			local = f.local
		}
		req, err := r.request(s, t, netip.AddrPortFrom(src, viaPort), contact, expires)
		if err != nil {
			return 0, nil, err
		}
		res, err := r.send(ctx, req, t)
		if err != nil && !fresh && f.err() != nil && ctx.Err() == nil {
			// A flow kept from before died under the request (the peer
			// may have closed it just then): one more try on a new one.
			s.log.Info("flow closed during the request, trying a new one", "err", err)
			r.agent.releaseFlow(f)
			if f, fresh, err = r.agent.acquireFlow(ctx, t); err != nil {
				f = nil
				return 0, nil, err
			}
			local = f.local
			continue
		}
		if err != nil {
			return 0, nil, err
		}
		code := res.StatusCode
		switch {
		case code >= 200 && code < 300:
			if !register {
				s.bound, s.contact = false, nil
				return 0, nil, nil
			}
			g := granted(res, contact, expires)
			bound := contact
			s.bound, s.until, s.contact = true, time.Now().Add(g), &bound
			want := own
			if pub, nat := publicAddr(res, local); nat {
				want = r.contactURI(t.transport, pub)
			}
			if !corrected && !sameContact(&want, &contact) {
				corrected = true
				s.log.Info("registrar sees another address, registering it as Contact (RFC 3581)",
					"contact", contact.HostPort(), "seen", want.HostPort())
				contact = want
				continue
			}
			return g, f, nil
		case code == 401 || code == 407:
			if err := r.learnChallenge(s, res, answered[code]); err != nil {
				return 0, nil, err
			}
			answered[code] = true
		case code == 423 && expires > 0:
			minExp, ok := sipmsg.Seconds(res, "Min-Expires")
			if !ok || minExp <= expires {
				return 0, nil, fmt.Errorf("%w: 423 without a usable Min-Expires", responseError(res))
			}
			s.log.Info("registrar demands a longer binding", "min_expires", minExp)
			expires = minExp
			s.expires = minExp
		default:
			return 0, nil, responseError(res)
		}
	}
	return 0, nil, ErrTooManyRounds
}

// publicAddr reads the top Via of a response: the received and rport
// parameters a registrar adds (RFC 3261 §18.2.1, RFC 3581 §4) give the
// address it saw the request come from. nat tells that it differs from
// local, the address the request left from.
func publicAddr(res *sip.Response, local netip.AddrPort) (pub netip.AddrPort, nat bool) {
	via := res.Via()
	if via == nil || via.Params == nil {
		return local, false
	}
	ip, port := local.Addr(), local.Port()
	if v, ok := via.Params.Get("received"); ok {
		if a, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil {
			ip = a.Unmap()
		}
	}
	if v, ok := via.Params.Get("rport"); ok && v != "" {
		if n, err := strconv.ParseUint(v, 10, 16); err == nil && n > 0 {
			port = uint16(n)
		}
	}
	pub = netip.AddrPortFrom(ip, port)
	return pub, pub != local
}

// learnChallenge caches the strongest supported challenge of a 401 or 407.
// answeredFresh tells whether the request just rejected carried
// credentials computed from a fresh challenge of the same kind.
func (r *Registration) learnChallenge(s *session, res *sip.Response, answeredFresh bool) error {
	re := responseError(res)
	best := digest.StrongestOf(sipmsg.Values(res, digest.ChallengeHeader(res.StatusCode)))
	if best == nil {
		return &authError{kind: ErrAuthUnsupported, resp: re, why: "no supported Digest challenge"}
	}
	if answeredFresh && !best.Stale {
		return &authError{kind: ErrAuthRejected, resp: re}
	}
	if r.acc.Password == "" {
		return &authError{kind: ErrAuthUnsupported, resp: re, why: "no password configured"}
	}
	s.log.Debug("challenged", "status", res.StatusCode, "realm", best.Realm, "algorithm", best.Algorithm, "stale", best.Stale)
	s.auth[res.StatusCode] = &authCache{ch: best}
	return nil
}

// sourceIP returns the address requests to dst leave from: the listening
// address, or when that is unspecified the local address the system routes
// to dst from.
func (a *Agent) sourceIP(dst string) (netip.Addr, error) {
	if ip, ok := netip.AddrFromSlice(a.listen.IP); ok && !ip.IsUnspecified() {
		return ip.Unmap(), nil
	}
	// A connected UDP socket sends nothing but learns the route's source.
	c, err := net.Dial("udp", dst)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: no route to %s: %w", ErrNoResponse, dst, err)
	}
	defer c.Close()
	ip, _ := netip.AddrFromSlice(c.LocalAddr().(*net.UDPAddr).IP)
	return ip.Unmap(), nil
}

// SentBy is the address a request to dst (host:port) over transport
// carries in Via and Contact: the agent's listening port for transport,
// and its listening address, or when that is unspecified the source
// address of the route to dst (unspecified when there is none).
func (a *Agent) SentBy(dst, transport string) netip.AddrPort {
	ip, err := a.sourceIP(dst)
	if err != nil || !ip.IsValid() {
		ip = netip.IPv4Unspecified()
	}
	return netip.AddrPortFrom(ip, a.listenPort(transport))
}

// listenPort is the port the agent receives requests on for a transport.
func (a *Agent) listenPort(transport string) uint16 {
	if transport == "tls" && a.tlsLis != nil {
		return uint16(a.tlsLis.Port)
	}
	return uint16(a.listen.Port)
}

// contactURI is the Contact for an address and transport.
func (r *Registration) contactURI(transport string, addr netip.AddrPort) sip.Uri {
	u := sip.Uri{Scheme: "sip", User: r.acc.User, Host: addr.Addr().String(), Port: int(addr.Port())}
	if transport != "udp" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", transport)
	}
	return u
}

// transportOf returns a SIP URI's transport parameter, "udp" by default.
func transportOf(u *sip.Uri) string {
	if u.UriParams != nil {
		if v, ok := u.UriParams.Get("transport"); ok {
			return strings.ToLower(v)
		}
	}
	return "udp"
}

// request builds the next REGISTER for session s to target t: same
// Call-ID and From tag, CSeq one higher, credentials from cached
// challenges. A Contact bound before and now replaced is removed in the
// same request.
func (r *Registration) request(s *session, t target, sentBy netip.AddrPort, contact sip.Uri, expires time.Duration) (*sip.Request, error) {
	ruri := sip.Uri{Scheme: "sip", Host: r.acc.Domain}
	req := sip.NewRequest(sip.REGISTER, ruri)
	aor := sip.Uri{Scheme: "sip", User: r.acc.User, Host: r.acc.Domain}
	tp := strings.ToUpper(t.transport)

	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: tp,
		Host: sentBy.Addr().String(), Port: int(sentBy.Port()), Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	via.Params.Add("rport", "")
	req.AppendHeader(via)
	if s.proxy {
		// RFC 3261 §8.1.2: a pre-loaded route set naming the outbound
		// proxy, which routes loosely.
		host, port, _ := hostport.Split(s.hop)
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		route := &sip.RouteHeader{Address: sip.Uri{Scheme: "sip", Host: host, Port: int(port), UriParams: sip.NewParams()}}
		if t.transport != "udp" {
			route.Address.UriParams.Add("transport", t.transport)
		}
		route.Address.UriParams.Add("lr", "")
		req.AppendHeader(route)
	}
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	from := &sip.FromHeader{DisplayName: r.acc.DisplayName, Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", s.fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{DisplayName: r.acc.DisplayName, Address: aor})
	cid := sip.CallIDHeader(s.callID)
	req.AppendHeader(&cid)
	s.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: s.cseq, MethodName: sip.REGISTER})
	ct := &sip.ContactHeader{Address: contact, Params: sip.NewParams()}
	if r.acc.InstanceID != "" {
		ct.Params.Add("+sip.instance", "<"+r.acc.InstanceID+">")
		if r.acc.RegID > 0 {
			ct.Params.Add("reg-id", strconv.Itoa(r.acc.RegID))
		}
	}
	req.AppendHeader(ct)
	if old := s.contact; expires > 0 && old != nil && !sameContact(old, &contact) {
		gone := &sip.ContactHeader{Address: *old, Params: sip.NewParams()}
		gone.Params.Add("expires", "0")
		req.AppendHeader(gone)
	}
	exp := sip.ExpiresHeader(uint32(expires / time.Second))
	req.AppendHeader(&exp)
	if r.acc.InstanceID != "" && r.acc.RegID > 0 {
		req.AppendHeader(sip.NewHeader("Supported", "path, outbound"))
	}
	req.AppendHeader(sip.NewHeader("User-Agent", r.agent.cfg.UserAgent))
	for _, code := range []int{407, 401} {
		ac := s.auth[code]
		if ac == nil {
			continue
		}
		ac.nc++
		cr, err := digest.Respond(ac.ch, digest.Options{
			Method: "REGISTER", URI: ruri.String(), Username: r.acc.AuthUser, Password: r.acc.Password, NC: ac.nc,
		})
		if err != nil {
			return nil, &authError{kind: ErrAuthUnsupported, resp: &ResponseError{StatusCode: code}, why: err.Error()}
		}
		name := "Authorization"
		if code == 407 {
			name = "Proxy-Authorization"
		}
		req.AppendHeader(sip.NewHeader(name, cr.String()))
	}
	req.SetBody(nil)
	req.SetTransport(tp)
	req.SetDestination(t.addr.String())
	if tp == "UDP" {
		// Send from the listening socket: responses and later requests
		// from the registrar come back to the advertised port.
		l := r.agent.listen
		req.Laddr = sip.Addr{IP: l.IP, Port: l.Port}
	}
	return req, nil
}

// send runs one client transaction and returns its final response.
func (r *Registration) send(ctx context.Context, req *sip.Request, t target) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, r.agent.cfg.RequestTimeout)
	defer cancel()
	r.log.Debug("sending REGISTER", "target", t.String(), "cseq", req.CSeq().SeqNo, "expires", req.GetHeader("Expires").Value())
	res, err := r.agent.client.Do(ctx, req)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("%w: REGISTER to %s timed out: %w", ErrNoResponse, t, err)
		}
		return nil, fmt.Errorf("%w: REGISTER to %s: %w", ErrNoResponse, t, err)
	}
	r.log.Debug("response", "status", res.StatusCode, "reason", res.Reason)
	return res, nil
}

// granted returns the lifetime of our binding in a 2xx: our Contact's
// expires parameter, else the Expires header, else what we asked for.
func granted(res *sip.Response, ours sip.Uri, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok || !sameContact(&c.Address, &ours) {
			continue
		}
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil {
				return time.Duration(n) * time.Second
			}
		}
	}
	if d, ok := sipmsg.Seconds(res, "Expires"); ok {
		return d
	}
	return asked
}

// sameContact compares the parts of two Contact URIs that make a binding
// ours: user, host, port and transport.
func sameContact(a, b *sip.Uri) bool {
	pa, pb := a.Port, b.Port
	if pa == 0 {
		pa = 5060
	}
	if pb == 0 {
		pb = 5060
	}
	return a.User == b.User && strings.EqualFold(strings.Trim(a.Host, "[]"), strings.Trim(b.Host, "[]")) && pa == pb &&
		transportOf(a) == transportOf(b)
}

func responseError(res *sip.Response) *ResponseError {
	e := &ResponseError{StatusCode: res.StatusCode, Reason: res.Reason}
	if d, ok := sipmsg.Seconds(res, "Retry-After"); ok {
		e.RetryAfter = d
	}
	return e
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
