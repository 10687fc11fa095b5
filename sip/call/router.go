package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"

	"github.com/tipring/tipring/sip/internal/sipmsg"
	"github.com/tipring/tipring/sip/ua"
)

// Methods we implement, for Allow headers.
const allowMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY"

// Extensions we support, for Supported headers.
const supportedExtensions = "100rel, timer, replaces"

// Router dispatches the SIP requests the agent receives to lines and
// calls: a new INVITE to the line its Request-URI user names, requests
// inside a dialog to the call that owns it. Make one per agent, before
// calls can arrive, with [NewRouter].
type Router struct {
	agent *ua.Agent
	log   *slog.Logger

	mu     sync.Mutex
	lines  map[string]*Line // by user
	calls  map[string]*Call // by dialogKey(Call-ID, our tag)
	closed bool
}

// NewRouter installs the call handlers (INVITE, ACK, BYE, CANCEL,
// OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY) with the agent's
// dispatcher ([ua.Agent.Handle]), which may happen at any time. OPTIONS
// outside a dialog is answered with 200 and our capabilities. Handlers
// for other NOTIFY event packages (message-summary, …) can be added with
// [ua.Agent.HandleEvent]; they take precedence over the router's.
func NewRouter(agent *ua.Agent, log *slog.Logger) *Router {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Router{agent: agent, log: log, lines: make(map[string]*Line), calls: make(map[string]*Call)}
	agent.Handle(sip.INVITE, r.onInvite)
	agent.Handle(sip.ACK, r.onAck)
	agent.Handle(sip.CANCEL, r.onStrayCancel)
	for _, m := range []sip.RequestMethod{sip.BYE, sip.OPTIONS, sip.PRACK, sip.UPDATE, sip.INFO, sip.REFER, sip.NOTIFY} {
		agent.Handle(m, r.onRequest)
	}
	return r
}

// NewLine attaches a line to the router: incoming calls for cfg.User
// arrive on its Incoming channel.
func (r *Router) NewLine(cfg Config) (*Line, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if _, ok := r.lines[cfg.User]; ok {
		return nil, fmt.Errorf("%w: %s", ErrLineExists, cfg.User)
	}
	l := newLine(r, cfg)
	r.lines[cfg.User] = l
	return l, nil
}

// Close hangs up every call of every line within ctx and detaches the
// lines; requests arriving later are refused.
func (r *Router) Close(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	lines := make([]*Line, 0, len(r.lines))
	for _, l := range r.lines {
		lines = append(lines, l)
	}
	r.mu.Unlock()
	var errs []error
	for _, l := range lines {
		errs = append(errs, l.Close(ctx))
	}
	return errors.Join(errs...)
}

func dialogKey(callID, ourTag string) string { return callID + "\x00" + ourTag }

func (r *Router) addCall(c *Call) {
	r.mu.Lock()
	r.calls[dialogKey(c.callID, c.localTag)] = c
	r.mu.Unlock()
}

func (r *Router) removeCall(c *Call) {
	r.mu.Lock()
	if r.calls[dialogKey(c.callID, c.localTag)] == c {
		delete(r.calls, dialogKey(c.callID, c.localTag))
	}
	r.mu.Unlock()
}

// findCall returns the call whose dialog a request from the peer belongs
// to: our tag is in its To header.
func (r *Router) findCall(req *sip.Request) *Call {
	cid, to := req.CallID(), req.To()
	if cid == nil || to == nil {
		return nil
	}
	tag, _ := to.Params.Get("tag")
	if tag == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[dialogKey(cid.Value(), tag)]
}

// callByDialog finds a call by its dialog identifiers, from our point of
// view (RFC 3891 §3 names them from the receiver's).
func (r *Router) callByDialog(callID, ourTag, theirTag string) *Call {
	r.mu.Lock()
	c := r.calls[dialogKey(callID, ourTag)]
	r.mu.Unlock()
	if c == nil || c.remoteTagOf() != theirTag {
		return nil
	}
	return c
}

func (r *Router) lineFor(user string) *Line {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	return r.lines[user]
}

func (r *Router) detach(l *Line) {
	r.mu.Lock()
	if r.lines[l.cfg.User] == l {
		delete(r.lines, l.cfg.User)
	}
	r.mu.Unlock()
}

// respond answers req statelessly within its transaction, logging a
// failure to send.
func (r *Router) respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		r.log.Debug("response not sent", "status", code, "err", err)
	}
}

func (r *Router) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		if c := r.findCall(req); c != nil {
			c.onReinvite(req, tx)
			return
		}
		r.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	user := req.Recipient.User
	l := r.lineFor(user)
	if l == nil {
		r.log.Info("INVITE for unknown user", "user", user)
		r.respond(tx, req, 404, "Not Found")
		return
	}
	l.onInvite(req, tx)
}

func (r *Router) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if c := r.findCall(req); c != nil {
		c.onAck(req)
	}
}

// onStrayCancel answers a CANCEL matching no INVITE transaction (RFC 3261
// §9.2): sipgo answers those that match itself.
func (r *Router) onStrayCancel(req *sip.Request, tx sip.ServerTransaction) {
	r.respond(tx, req, 481, "Call/Transaction Does Not Exist")
}

func (r *Router) onRequest(req *sip.Request, tx sip.ServerTransaction) {
	to := req.To()
	if to == nil || !to.Params.Has("tag") {
		switch req.Method {
		case sip.OPTIONS:
			r.respond(tx, req, 200, "OK",
				sip.NewHeader("Allow", allowMethods),
				sip.NewHeader("Accept", "application/sdp"),
				sip.NewHeader("Supported", supportedExtensions))
		default:
			// REFER and NOTIFY outside a dialog are not ours (RFC 3515
			// §2.4.1 refers within dialogs here).
			r.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		}
		return
	}
	c := r.findCall(req)
	if c == nil {
		r.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	c.onRequest(req, tx)
}

// message is what requests and responses share that this package reads.
type message interface {
	GetHeader(name string) sip.Header
	GetHeaders(name string) []sip.Header
	Body() []byte
	ContentType() *sip.ContentTypeHeader
}

// headerValues returns the values of every header named name.
func headerValues(m message, name string) []string { return sipmsg.Values(m, name) }

// headerValue returns the first value of a header, or "".
func headerValue(m message, name string) string {
	if h := m.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

// isSDP reports whether a message carries an SDP body.
func isSDP(m message) bool {
	if len(m.Body()) == 0 {
		return false
	}
	ct := m.ContentType()
	if ct == nil {
		return false
	}
	mt, _, _ := strings.Cut(ct.Value(), ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/sdp")
}
