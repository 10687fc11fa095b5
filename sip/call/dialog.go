package call

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/tipring/tipring/sip/digest"
	"github.com/tipring/tipring/sip/ua"
)

// randomToken returns n random bytes in hex, for tags and Call-IDs.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// maxAuthRounds bounds the challenges answered for one request.
const maxAuthRounds = 3

// authState caches the challenges of a dialog's requests (RFC 3261
// §22.3): answered again with increasing nonce counts.
type authState struct {
	mu    sync.Mutex
	cache map[int]*authEntry // by 401 or 407
}

type authEntry struct {
	ch *digest.Challenge
	nc uint32
}

// learn records the strongest challenge of a 401 or 407. It fails when the
// challenge cannot be answered, or when answered tells that the request
// carried credentials from an earlier challenge of this request and the
// new challenge is not stale=true (RFC 3261 §22.2).
func (a *authState) learn(res *sip.Response, answered bool) error {
	name := digest.ChallengeHeader(res.StatusCode)
	ch := digest.StrongestOf(headerValues(res, name))
	if ch == nil {
		return fmt.Errorf("%w: no usable %s challenge", ErrAuth, name)
	}
	if answered && !ch.Stale {
		return fmt.Errorf("%w: credentials rejected by realm %q", ErrAuth, ch.Realm)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cache == nil {
		a.cache = make(map[int]*authEntry)
	}
	a.cache[res.StatusCode] = &authEntry{ch: ch}
	return nil
}

// authorize adds credentials for every cached challenge to req.
func (a *authState) authorize(req *sip.Request, user, password string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	req.RemoveHeader("Authorization")
	req.RemoveHeader("Proxy-Authorization")
	for _, code := range []int{407, 401} {
		e := a.cache[code]
		if e == nil {
			continue
		}
		e.nc++
		cr, err := digest.Respond(e.ch, digest.Options{
			Method: string(req.Method), URI: req.Recipient.String(), Username: user, Password: password, NC: e.nc, Body: req.Body(),
		})
		if err != nil {
			return fmt.Errorf("%w: %w", ErrAuth, err)
		}
		name := "Authorization"
		if code == 407 {
			name = "Proxy-Authorization"
		}
		req.AppendHeader(sip.NewHeader(name, cr.String()))
	}
	return nil
}

// contact is our Contact URI for a transport and local address: the
// address the line's registration bound instead, while it is registered
// over that transport.
func (l *Line) contact(transport string, addr netip.AddrPort) sip.Uri {
	if reg := l.cfg.Registration; reg != nil {
		if st := reg.State(); st.Status == ua.StatusRegistered && st.Transport == transport && st.Public.IsValid() {
			addr = st.Public
		}
	}
	u := sip.Uri{Scheme: "sip", User: l.cfg.User, Host: addr.Addr().String(), Port: int(addr.Port())}
	if transport != "udp" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", transport)
	}
	return u
}

// hopOf returns where a request to target through routes is sent first.
func hopOf(target sip.Uri, routes []sip.Uri, transport string) string {
	u := target
	if len(routes) > 0 {
		u = routes[0]
	}
	port := u.Port
	if port == 0 {
		port = 5060
		if transport == "tls" || u.Scheme == "sips" {
			port = 5061
		}
	}
	return net.JoinHostPort(strings.Trim(u.Host, "[]"), fmt.Sprint(port))
}

// transportOfURI returns a URI's transport parameter, or def.
func transportOfURI(u sip.Uri, def string) string {
	if u.UriParams != nil {
		if v, ok := u.UriParams.Get("transport"); ok && v != "" {
			return strings.ToLower(v)
		}
	}
	if u.Scheme == "sips" {
		return "tls"
	}
	return def
}

// newRequest starts a request to target through routes: Via, Route,
// Max-Forwards, Contact and User-Agent.
func (l *Line) newRequest(method sip.RequestMethod, target sip.Uri, routes []sip.Uri, transport string) *sip.Request {
	req := sip.NewRequest(method, target)
	hop := hopOf(target, routes, transport)
	local := l.r.agent.SentBy(hop, transport)
	tp := strings.ToUpper(transport)
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
	if method != sip.ACK && method != sip.CANCEL && method != sip.BYE {
		req.AppendHeader(&sip.ContactHeader{Address: l.contact(transport, local)})
	}
	req.SetTransport(tp)
	req.SetDestination(hop)
	if tp == "UDP" {
		la := l.r.agent.LocalAddr()
		req.Laddr = sip.Addr{IP: la.IP, Port: la.Port}
	}
	return req
}

// dialogRequest builds a request inside d (RFC 3261 §12.2.1.1): CSeq one
// higher unless seq is given (ACK, CANCEL).
func (c *Call) dialogRequestLocked(d *dialog, method sip.RequestMethod, seq uint32) *sip.Request {
	req := c.line.newRequest(method, d.target, d.routes, d.transport)
	from := &sip.FromHeader{DisplayName: d.localName, Address: d.local, Params: sip.NewParams()}
	from.Params.Add("tag", d.localTag)
	to := &sip.ToHeader{DisplayName: d.remoteName, Address: d.remote, Params: sip.NewParams()}
	if d.remoteTag != "" {
		to.Params.Add("tag", d.remoteTag)
	}
	req.AppendHeader(from)
	req.AppendHeader(to)
	cid := sip.CallIDHeader(d.callID)
	req.AppendHeader(&cid)
	if seq == 0 {
		d.localSeq++
		seq = d.localSeq
	}
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	req.AppendHeader(sip.NewHeader("User-Agent", c.line.userAgent()))
	return req
}

// setBody sets a body with its Content-Type; a nil body sets
// Content-Length 0.
func setBody(m interface {
	AppendHeader(sip.Header)
	SetBody([]byte)
}, contentType string, body []byte) {
	if body != nil {
		m.AppendHeader(sip.NewHeader("Content-Type", contentType))
	}
	m.SetBody(body)
}

// sendTx runs one client transaction to its final response, answering
// challenges by rebuilding the request with build. It hands provisional
// responses to onProvisional when not nil.
func (c *Call) transact(ctx context.Context, build func() (*sip.Request, error), onProvisional func(*sip.Response)) (*sip.Request, *sip.Response, error) {
	answered := make(map[int]bool)
	for round := 0; ; round++ {
		req, err := build()
		if err != nil {
			return nil, nil, err
		}
		if err := c.auth.authorize(req, c.line.cfg.AuthUser, c.line.cfg.Password); err != nil {
			return req, nil, err
		}
		res, err := c.line.do(ctx, req, onProvisional)
		if err != nil {
			return req, nil, err
		}
		if (res.StatusCode == 401 || res.StatusCode == 407) && round < maxAuthRounds {
			name := "Authorization"
			if res.StatusCode == 407 {
				name = "Proxy-Authorization"
			}
			if err := c.auth.learn(res, answered[res.StatusCode] && req.GetHeader(name) != nil); err != nil {
				return req, res, err
			}
			answered[res.StatusCode] = true
			continue
		}
		return req, res, nil
	}
}

// do runs one client transaction and returns its final response.
func (l *Line) do(ctx context.Context, req *sip.Request, onProvisional func(*sip.Response)) (*sip.Response, error) {
	tx, err := l.r.agent.Client().TransactionRequest(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNoResponse, req.Method, err)
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				if onProvisional != nil {
					onProvisional(res)
				}
				continue
			}
			return res, nil
		case <-tx.Done():
			return nil, fmt.Errorf("%w: %s: %w", ErrNoResponse, req.Method, tx.Err())
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %s: %w", ErrNoResponse, req.Method, ctx.Err())
		}
	}
}

// request sends a request in the confirmed dialog and returns its final
// response. A 481 or 408 ends the dialog (RFC 3261 §12.2.1.2) unless the
// request was a BYE.
func (c *Call) request(ctx context.Context, method sip.RequestMethod, hdrs []sip.Header, body func() (string, []byte)) (*sip.Response, error) {
	build := func() (*sip.Request, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.dlg == nil {
			return nil, ErrState
		}
		req := c.dialogRequestLocked(c.dlg, method, 0)
		for _, h := range hdrs {
			req.AppendHeader(sip.HeaderClone(h))
		}
		if body != nil {
			ct, b := body()
			setBody(req, ct, b)
		} else {
			req.SetBody(nil)
		}
		return req, nil
	}
	req, res, err := c.transact(ctx, build, nil)
	if err != nil {
		return nil, err
	}
	if method != sip.BYE && (res.StatusCode == 481 || res.StatusCode == 408) {
		go c.end(Event{Cause: EndError, Code: res.StatusCode, Reason: res.Reason,
			Err: &StatusError{Method: string(req.Method), Code: res.StatusCode, Reason: res.Reason}})
	}
	if method == sip.INVITE && res.IsSuccess() {
		c.ack(req, res, nil)
	}
	return res, nil
}

// ack sends the ACK for a 2xx to req (RFC 3261 §13.2.2.4): a new
// transaction with the INVITE's CSeq number and credentials, in the dialog
// the 2xx made.
func (c *Call) ack(invite *sip.Request, res *sip.Response, body []byte) *sip.Request {
	c.mu.Lock()
	d := c.dlg
	tag, _ := res.To().Params.Get("tag")
	if d == nil || d.remoteTag != tag {
		d = c.early[tag]
	}
	if d == nil {
		d = dialogFromResponse(invite, res, c.line.cfg.Transport)
	}
	ack := c.dialogRequestLocked(d, sip.ACK, invite.CSeq().SeqNo)
	c.mu.Unlock()
	for _, name := range []string{"Authorization", "Proxy-Authorization"} {
		for _, h := range invite.GetHeaders(name) {
			ack.AppendHeader(sip.HeaderClone(h))
		}
	}
	setBody(ack, "application/sdp", body)
	if err := c.line.r.agent.Client().WriteRequest(ack); err != nil {
		c.log.Warn("ACK not sent", "err", err)
	}
	return ack
}

// dialogFromResponse makes the UAC's dialog from a response with a To tag
// to our INVITE (RFC 3261 §12.1.2): the route set is the Record-Route
// reversed, the remote target its Contact.
func dialogFromResponse(invite *sip.Request, res *sip.Response, transport string) *dialog {
	from, to := invite.From(), res.To()
	tag, _ := to.Params.Get("tag")
	fromTag, _ := from.Params.Get("tag")
	d := &dialog{
		callID:     invite.CallID().Value(),
		localTag:   fromTag,
		remoteTag:  tag,
		local:      from.Address,
		localName:  from.DisplayName,
		remote:     to.Address,
		remoteName: to.DisplayName,
		localSeq:   invite.CSeq().SeqNo,
		target:     invite.Recipient,
		transport:  transport,
	}
	var rr []sip.Uri
	for _, h := range res.GetHeaders("Record-Route") {
		if r, ok := h.(*sip.RecordRouteHeader); ok {
			rr = append(rr, r.Address)
		}
	}
	slices.Reverse(rr)
	d.routes = rr
	if ct := res.Contact(); ct != nil {
		d.target = ct.Address
		d.transport = transportOfURI(ct.Address, transport)
	}
	if len(d.routes) > 0 {
		d.transport = transportOfURI(d.routes[0], transport)
	}
	d.allow = allowOf(res)
	return d
}

// dialogFromRequest makes the UAS's dialog from an INVITE (RFC 3261
// §12.1.1): the route set is its Record-Route in order, the remote target
// its Contact.
func dialogFromRequest(req *sip.Request, localTag string) (*dialog, error) {
	from, to, ct := req.From(), req.To(), req.Contact()
	if from == nil || to == nil || ct == nil || req.CallID() == nil || req.CSeq() == nil {
		return nil, fmt.Errorf("%w: INVITE lacks From, To, Contact, Call-ID or CSeq", ErrMalformed)
	}
	remoteTag, _ := from.Params.Get("tag")
	transport := strings.ToLower(req.Transport())
	d := &dialog{
		callID:     req.CallID().Value(),
		localTag:   localTag,
		remoteTag:  remoteTag,
		local:      to.Address,
		localName:  to.DisplayName,
		remote:     from.Address,
		remoteName: from.DisplayName,
		remoteSeq:  req.CSeq().SeqNo,
		localSeq:   uint32(randUint31() & 0x7fff),
		target:     ct.Address,
		transport:  transportOfURI(ct.Address, transport),
	}
	for _, h := range req.GetHeaders("Record-Route") {
		if r, ok := h.(*sip.RecordRouteHeader); ok {
			d.routes = append(d.routes, r.Address)
		}
	}
	if len(d.routes) > 0 {
		d.transport = transportOfURI(d.routes[0], transport)
	}
	if d.transport == "" {
		d.transport = transport
	}
	d.allow = allowOf(req)
	return d, nil
}

// allowOf returns the methods of a message's Allow headers, upper-case,
// or nil when it has none.
func allowOf(m message) []string {
	var out []string
	for _, v := range headerValues(m, "Allow") {
		for _, f := range strings.Split(v, ",") {
			if f = strings.ToUpper(strings.TrimSpace(f)); f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

func randUint31() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) & 0x7fffffff
}
