package ua

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tipring/tipring/sip/digest"
)

// Defaults for an Account.
const (
	defaultExpires = time.Hour
	// maxRounds bounds the requests of one attempt: challenges, a stale
	// nonce, 423 answers.
	maxRounds = 6
	// unregisterTimeout bounds the un-REGISTER when the registration's
	// context ends without Stop.
	unregisterTimeout = 5 * time.Second
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
	// Registrar is the host[:port] REGISTERs are sent to; default Domain.
	// The port defaults to 5061 for TLS and 5060 otherwise.
	Registrar string
	// Transport is "udp", "tcp" or "tls" (the default).
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
	if acc.User == "" || acc.Domain == "" {
		return fmt.Errorf("%w: user and domain are required", ErrInvalidAccount)
	}
	if strings.ContainsAny(acc.User, "@:;<> \t\r\n") || strings.ContainsAny(acc.Domain, "@;<> \t\r\n/") {
		return fmt.Errorf("%w: bad character in user %q or domain %q", ErrInvalidAccount, acc.User, acc.Domain)
	}
	if acc.AuthUser == "" {
		acc.AuthUser = acc.User
	}
	acc.Transport = strings.ToLower(acc.Transport)
	switch acc.Transport {
	case "":
		acc.Transport = "tls"
	case "udp", "tcp", "tls":
	default:
		return fmt.Errorf("%w: transport %q (want udp, tcp or tls)", ErrInvalidAccount, acc.Transport)
	}
	if acc.Registrar == "" {
		acc.Registrar = acc.Domain
	}
	host, port, err := net.SplitHostPort(acc.Registrar)
	if err != nil {
		host, port = strings.Trim(acc.Registrar, "[]"), ""
	}
	if port == "" {
		port = "5060"
		if acc.Transport == "tls" {
			port = "5061"
		}
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 || host == "" {
		return fmt.Errorf("%w: registrar %q", ErrInvalidAccount, acc.Registrar)
	}
	acc.Registrar = net.JoinHostPort(host, port)
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
	return nil
}

// Status is the coarse state of a registration.
type Status int

// Registration statuses.
const (
	// StatusRegistering: the first attempt, or one after a failure, is
	// under way.
	StatusRegistering Status = iota
	// StatusRegistered: the registrar holds our binding until RegState.Until.
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
	// Err is the last failure, when failed (and possibly when stopped).
	Err error
	// NextRetry is when the next attempt is made, when failed; zero means
	// the failure is final (see ErrRejected) and nothing more is tried.
	NextRetry time.Time
	// Failures counts consecutive failed attempts.
	Failures int
}

// Registration keeps one account registered. Create it with
// [Agent.Register]; its methods are safe for concurrent use.
type Registration struct {
	agent *Agent
	acc   Account
	log   *slog.Logger
	rnd   func() float64

	// Owned by the registration goroutine (and by the final
	// un-REGISTER, which runs in it after the loop).
	callID  string
	fromTag string
	cseq    uint32
	expires time.Duration
	auth    map[int]*authCache // by challenge status, 401 or 407
	bound   bool

	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	state   RegState
	changes chan RegState
	stopCtx context.Context
	stopErr error
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
		log:     a.log.With("line", acc.User+"@"+acc.Domain, "registrar", acc.Registrar, "transport", acc.Transport),
		rnd:     mrand.Float64,
		callID:  randomHex(16),
		fromTag: randomHex(8),
		cseq:    uint32(mrand.IntN(1 << 15)),
		expires: acc.Expires,
		auth:    make(map[int]*authCache),
		cancel:  cancel,
		done:    make(chan struct{}),
		changes: make(chan RegState, 1),
		state:   RegState{Status: StatusRegistering, Since: time.Now()},
	}
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

func (r *Registration) run(ctx context.Context) {
	defer r.finish()
	failures := 0
	for {
		granted, err := r.attempt(ctx, r.expires)
		if ctx.Err() != nil {
			return
		}
		var wait time.Duration
		if err == nil {
			failures = 0
			r.bound = true
			now := time.Now()
			wait = refreshDelay(granted)
			r.setState(RegState{Status: StatusRegistered, Until: now.Add(granted), Expires: granted})
			r.log.Info("registered", "expires", granted, "refresh_in", wait)
		} else {
			failures++
			st := RegState{Status: StatusFailed, Err: err, Failures: failures}
			if errors.Is(err, ErrRejected) {
				r.log.Warn("registration rejected, not retrying", "err", err)
				r.setState(st)
				<-ctx.Done()
				return
			}
			wait = backoff(r.acc.RetryBase, r.acc.RetryMax, failures, r.rnd)
			var re *ResponseError
			if errors.As(err, &re) && re.RetryAfter > 0 {
				wait = min(re.RetryAfter, maxRetryAfter)
			}
			st.NextRetry = time.Now().Add(wait)
			r.log.Warn("registration failed", "err", err, "failures", failures, "retry_in", wait)
			r.setState(st)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err != nil {
			r.setState(RegState{Status: StatusRegistering, Failures: failures, Err: err})
		}
	}
}

// finish removes the binding if one may exist and publishes the final state.
func (r *Registration) finish() {
	r.mu.Lock()
	ctx := r.stopCtx
	r.mu.Unlock()
	if ctx == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), unregisterTimeout)
		defer cancel()
	}
	var err error
	if r.bound {
		if _, err = r.attempt(ctx, 0); err != nil {
			err = fmt.Errorf("ua: un-register %s: %w", r.acc.User, err)
			r.log.Warn("un-register failed", "err", err)
		} else {
			r.log.Info("un-registered")
		}
	}
	r.agent.forget(r)
	r.mu.Lock()
	r.stopErr = err
	r.mu.Unlock()
	r.setState(RegState{Status: StatusStopped, Err: err})
	close(r.changes)
	close(r.done)
}

// attempt runs one registration (or, with expires 0, un-registration):
// REGISTER, answering challenges and 423 until a final outcome. It returns
// the granted lifetime.
func (r *Registration) attempt(ctx context.Context, expires time.Duration) (time.Duration, error) {
	contact, err := r.contact(ctx)
	if err != nil {
		return 0, err
	}
	answered := map[int]bool{} // challenge statuses answered with fresh credentials
	for range maxRounds {
		req, err := r.request(contact, expires)
		if err != nil {
			return 0, err
		}
		res, err := r.send(ctx, req)
		if err != nil {
			return 0, err
		}
		code := res.StatusCode
		switch {
		case code >= 200 && code < 300:
			return r.granted(res, contact, expires), nil
		case code == 401 || code == 407:
			if err := r.learnChallenge(res, answered[code]); err != nil {
				return 0, err
			}
			answered[code] = true
		case code == 423 && expires > 0:
			minExp, ok := headerSeconds(res, "Min-Expires")
			if !ok || minExp <= expires {
				return 0, fmt.Errorf("%w: 423 without a usable Min-Expires", responseError(res))
			}
			r.log.Info("registrar demands a longer binding", "min_expires", minExp)
			expires = minExp
			r.expires = minExp
		default:
			return 0, responseError(res)
		}
	}
	return 0, ErrTooManyRounds
}

// learnChallenge caches the strongest supported challenge of a 401 or 407.
// answeredFresh tells whether the request just rejected carried
// credentials computed from a fresh challenge of the same kind.
func (r *Registration) learnChallenge(res *sip.Response, answeredFresh bool) error {
	name := "WWW-Authenticate"
	if res.StatusCode == 407 {
		name = "Proxy-Authenticate"
	}
	var chs []*digest.Challenge
	for _, h := range res.GetHeaders(name) {
		if c, err := digest.ParseChallenge(h.Value()); err == nil {
			chs = append(chs, c)
		}
	}
	re := responseError(res)
	best := digest.Strongest(chs)
	if best == nil {
		return &authError{kind: ErrAuthUnsupported, resp: re, why: "no supported Digest challenge"}
	}
	if answeredFresh && !best.Stale {
		return &authError{kind: ErrAuthRejected, resp: re}
	}
	if r.acc.Password == "" {
		return &authError{kind: ErrAuthUnsupported, resp: re, why: "no password configured"}
	}
	r.log.Debug("challenged", "status", res.StatusCode, "realm", best.Realm, "algorithm", best.Algorithm, "stale", best.Stale)
	r.auth[res.StatusCode] = &authCache{ch: best}
	return nil
}

// contactInfo is the Contact address this registration binds.
type contactInfo struct {
	host string
	port int
}

// contact works out the address the registrar should reach us at: the
// listening port, and the local address the system routes to the
// registrar from.
func (r *Registration) contact(ctx context.Context) (contactInfo, error) {
	l := r.agent.listen
	ci := contactInfo{host: l.IP.String(), port: l.Port}
	if !l.IP.IsUnspecified() {
		return ci, nil
	}
	host, port, _ := net.SplitHostPort(r.acc.Registrar)
	ip := net.ParseIP(host)
	if ip == nil {
		addrs, err := r.agent.cfg.Resolver.LookupIPAddr(ctx, host)
		if err != nil || len(addrs) == 0 {
			return ci, fmt.Errorf("%w: resolve %s: %w", ErrNoResponse, host, err)
		}
		ip = addrs[0].IP
	}
	// A connected UDP socket sends nothing but learns the route's source.
	c, err := net.Dial("udp", net.JoinHostPort(ip.String(), port))
	if err != nil {
		return ci, fmt.Errorf("%w: no route to %s: %w", ErrNoResponse, ip, err)
	}
	defer c.Close()
	ci.host = c.LocalAddr().(*net.UDPAddr).IP.String()
	return ci, nil
}

func (r *Registration) contactURI(ci contactInfo) sip.Uri {
	u := sip.Uri{Scheme: "sip", User: r.acc.User, Host: ci.host, Port: ci.port}
	if r.acc.Transport != "udp" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", r.acc.Transport)
	}
	return u
}

// request builds the next REGISTER: same Call-ID and From tag, CSeq one
// higher, credentials from cached challenges.
func (r *Registration) request(ci contactInfo, expires time.Duration) (*sip.Request, error) {
	ruri := sip.Uri{Scheme: "sip", Host: r.acc.Domain}
	req := sip.NewRequest(sip.REGISTER, ruri)
	aor := sip.Uri{Scheme: "sip", User: r.acc.User, Host: r.acc.Domain}
	tp := strings.ToUpper(r.acc.Transport)

	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: tp,
		Host: ci.host, Port: ci.port, Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	via.Params.Add("rport", "")
	req.AppendHeader(via)
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	from := &sip.FromHeader{DisplayName: r.acc.DisplayName, Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.fromTag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{DisplayName: r.acc.DisplayName, Address: aor})
	cid := sip.CallIDHeader(r.callID)
	req.AppendHeader(&cid)
	r.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	ct := &sip.ContactHeader{Address: r.contactURI(ci), Params: sip.NewParams()}
	if r.acc.InstanceID != "" {
		ct.Params.Add("+sip.instance", "<"+r.acc.InstanceID+">")
		if r.acc.RegID > 0 {
			ct.Params.Add("reg-id", strconv.Itoa(r.acc.RegID))
		}
	}
	req.AppendHeader(ct)
	exp := sip.ExpiresHeader(uint32(expires / time.Second))
	req.AppendHeader(&exp)
	if r.acc.InstanceID != "" && r.acc.RegID > 0 {
		req.AppendHeader(sip.NewHeader("Supported", "path, outbound"))
	}
	req.AppendHeader(sip.NewHeader("User-Agent", r.agent.cfg.UserAgent))
	for _, code := range []int{407, 401} {
		ac := r.auth[code]
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
	req.SetDestination(r.acc.Registrar)
	if tp == "UDP" {
		// Send from the listening socket: responses and later requests
		// from the registrar come back to the advertised port.
		l := r.agent.listen
		req.Laddr = sip.Addr{IP: l.IP, Port: l.Port}
	}
	return req, nil
}

// send runs one client transaction and returns its final response.
func (r *Registration) send(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, r.agent.cfg.RequestTimeout)
	defer cancel()
	r.log.Debug("sending REGISTER", "cseq", r.cseq, "expires", req.GetHeader("Expires").Value())
	res, err := r.agent.client.Do(ctx, req)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("%w: REGISTER to %s timed out: %w", ErrNoResponse, r.acc.Registrar, err)
		}
		return nil, fmt.Errorf("%w: REGISTER to %s: %w", ErrNoResponse, r.acc.Registrar, err)
	}
	r.log.Debug("response", "status", res.StatusCode, "reason", res.Reason)
	return res, nil
}

// granted returns the lifetime of our binding in a 2xx: our Contact's
// expires parameter, else the Expires header, else what we asked for.
func (r *Registration) granted(res *sip.Response, ci contactInfo, asked time.Duration) time.Duration {
	ours := r.contactURI(ci)
	contacts := res.GetHeaders("Contact")
	for _, h := range contacts {
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
	if d, ok := headerSeconds(res, "Expires"); ok {
		return d
	}
	return asked
}

func sameContact(a, b *sip.Uri) bool {
	pa, pb := a.Port, b.Port
	if pa == 0 {
		pa = 5060
	}
	if pb == 0 {
		pb = 5060
	}
	return a.User == b.User && strings.EqualFold(strings.Trim(a.Host, "[]"), strings.Trim(b.Host, "[]")) && pa == pb
}

// headerSeconds reads a header holding a delta-seconds value, ignoring a
// trailing comment or parameters (as Retry-After allows).
func headerSeconds(res *sip.Response, name string) (time.Duration, bool) {
	h := res.GetHeader(name)
	if h == nil {
		return 0, false
	}
	v := strings.TrimSpace(h.Value())
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	n, err := strconv.ParseUint(v[:end], 10, 32)
	if err != nil {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

func responseError(res *sip.Response) *ResponseError {
	e := &ResponseError{StatusCode: res.StatusCode, Reason: res.Reason}
	if d, ok := headerSeconds(res, "Retry-After"); ok {
		e.RetryAfter = d
	}
	return e
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
