package ua

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// A Handler answers a request the agent received, within its server
// transaction (nil for ACK, which has none of its own). It runs on a
// goroutine of the transport and should hand long work elsewhere.
type Handler func(req *sip.Request, tx sip.ServerTransaction)

// dispatchedMethods are the methods the agent installs a sipgo handler
// for at construction: every method sipgo parses, so that the table
// sipgo reads without a lock is never written after the listeners start.
var dispatchedMethods = []sip.RequestMethod{
	sip.INVITE, sip.ACK, sip.CANCEL, sip.BYE, sip.REGISTER, sip.OPTIONS,
	sip.SUBSCRIBE, sip.NOTIFY, sip.REFER, sip.INFO, sip.MESSAGE, sip.PRACK,
	sip.UPDATE, sip.PUBLISH,
}

// eventKey names handlers for one event package of NOTIFY or SUBSCRIBE.
type eventKey struct {
	method sip.RequestMethod
	pkg    string
}

// dispatcher is the agent's handler table, safe to change at any time.
type dispatcher struct {
	mu       sync.RWMutex
	byMethod map[sip.RequestMethod]Handler
	byEvent  map[eventKey]Handler
}

func newDispatcher() *dispatcher {
	return &dispatcher{byMethod: make(map[sip.RequestMethod]Handler), byEvent: make(map[eventKey]Handler)}
}

// Handle makes h answer requests of method from now on, replacing any
// handler before it; a nil h removes it. It is safe to call at any time,
// while requests arrive. Without a handler OPTIONS is answered 200 OK
// with the methods handled in Allow, ACK is dropped, and other methods
// are answered 405 Method Not Allowed (RFC 3261 §8.2.1).
func (a *Agent) Handle(method sip.RequestMethod, h Handler) {
	d := a.dispatch
	d.mu.Lock()
	defer d.mu.Unlock()
	if h == nil {
		delete(d.byMethod, method)
		return
	}
	d.byMethod[method] = h
}

// HandleEvent makes h answer NOTIFY or SUBSCRIBE requests whose Event
// header names the event package pkg (RFC 6665 §7.2.1; "refer",
// "message-summary", …), ahead of a handler for the whole method; a nil
// h removes it. A NOTIFY or SUBSCRIBE for a package nobody handles, when
// there is no handler for the method either, is answered 489 Bad Event
// (RFC 6665 §8.2.1). Other methods carry no event package: their
// handlers are ignored.
func (a *Agent) HandleEvent(method sip.RequestMethod, pkg string, h Handler) {
	if method != sip.NOTIFY && method != sip.SUBSCRIBE {
		a.log.Warn("event handler for a method without event packages ignored", "method", method.String())
		return
	}
	k := eventKey{method: method, pkg: strings.ToLower(strings.TrimSpace(pkg))}
	d := a.dispatch
	d.mu.Lock()
	defer d.mu.Unlock()
	if h == nil {
		delete(d.byEvent, k)
		return
	}
	d.byEvent[k] = h
}

// eventPackage returns the event package of a request's Event header
// (long or compact form), without parameters, in lower case.
func eventPackage(req *sip.Request) string {
	h := req.GetHeader("Event")
	if h == nil {
		h = req.GetHeader("o")
	}
	if h == nil {
		return ""
	}
	pkg, _, _ := strings.Cut(h.Value(), ";")
	return strings.ToLower(strings.TrimSpace(pkg))
}

// lookup returns the handler for req, or nil and whether the request is
// for an event package nobody handles.
func (d *dispatcher) lookup(req *sip.Request) (Handler, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if req.Method == sip.NOTIFY || req.Method == sip.SUBSCRIBE {
		if h := d.byEvent[eventKey{method: req.Method, pkg: eventPackage(req)}]; h != nil {
			return h, false
		}
		if h := d.byMethod[req.Method]; h != nil {
			return h, false
		}
		for k := range d.byEvent {
			if k.method == req.Method {
				return nil, true
			}
		}
		return nil, false
	}
	return d.byMethod[req.Method], false
}

// allow returns the methods with handlers, for Allow headers.
func (d *dispatcher) allow() string {
	d.mu.RLock()
	names := []string{sip.OPTIONS.String()}
	for m := range d.byMethod {
		if m != sip.OPTIONS {
			names = append(names, m.String())
		}
	}
	for k := range d.byEvent {
		if !slices.Contains(names, k.method.String()) {
			names = append(names, k.method.String())
		}
	}
	d.mu.RUnlock()
	slices.Sort(names[1:])
	return strings.Join(names, ", ")
}

// events returns the event packages handled for method, for
// Allow-Events headers.
func (d *dispatcher) events(method sip.RequestMethod) string {
	d.mu.RLock()
	var pkgs []string
	for k := range d.byEvent {
		if k.method == method {
			pkgs = append(pkgs, k.pkg)
		}
	}
	d.mu.RUnlock()
	slices.Sort(pkgs)
	return strings.Join(pkgs, ", ")
}

// singleHeaders are the header fields a request carries at most once
// (RFC 3261 §7.3.1 and §20; RFC 4475 §3.3.8 and §3.3.9). sipgo stores
// compact forms under these names.
var singleHeaders = []string{"From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type"}

// requiredHeaders are the header fields every request carries (RFC 3261
// §8.1.1; RFC 4475 §3.3.1). Max-Forwards is not among them: a UAS does
// not forward, and RFC 2543 requests lack it (RFC 4475 §3.4.1).
var requiredHeaders = []string{"Via", "From", "To", "Call-ID", "CSeq"}

// checkRequest returns the status code and reason phrase a request
// sipgo's parser let through must be rejected with, or 0 if it is
// acceptable. It catches what RFC 4475 calls invalid and our handlers
// would otherwise act on: a missing or repeated single-valued header,
// a CSeq method other than the request's, headers in the Request-URI,
// and a Request-URI scheme we do not serve.
func checkRequest(req *sip.Request) (int, string) {
	for _, name := range requiredHeaders {
		if req.GetHeader(name) == nil {
			return 400, "Missing " + name
		}
	}
	for _, name := range singleHeaders {
		if len(req.GetHeaders(name)) > 1 {
			return 400, "Multiple " + name
		}
	}
	// RFC 3261 §8.1.1.5; RFC 4475 §3.1.2.17 and §3.1.2.18.
	// sipgo upper-cases the request's method but not CSeq's, so the
	// comparison ignores case (RFC 4475 §3.1.1.2).
	if cseq := req.CSeq(); cseq == nil || !strings.EqualFold(string(cseq.MethodName), string(req.Method)) {
		return 400, "CSeq Method Mismatch"
	}
	// RFC 3261 §19.1.5: headers have no place in a Request-URI (RFC 4475
	// §3.1.2.11).
	if req.Recipient.Headers != nil && req.Recipient.Headers.Length() > 0 {
		return 400, "Headers in Request-URI"
	}
	// RFC 3261 §8.2.2.1 (RFC 4475 §3.3.2).
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default:
		return 416, "Unsupported URI Scheme"
	}
	return 0, ""
}

// serve is the sipgo handler of every dispatched method. It rejects the
// requests [checkRequest] finds broken, and a handler that panics is
// logged and its request answered 500 rather than crashing the gateway:
// sipgo recovers nothing.
func (a *Agent) serve(req *sip.Request, tx sip.ServerTransaction) {
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("panic handling SIP request", "method", req.Method.String(),
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if req.IsAck() || tx == nil {
				return
			}
			// The handler may have answered already; then this fails.
			_ = tx.Respond(sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
		}
	}()
	if code, reason := checkRequest(req); code != 0 {
		a.log.Info("malformed SIP request rejected", "method", req.Method.String(),
			"source", req.Source(), "status", code, "reason", reason)
		if req.IsAck() || tx == nil {
			return
		}
		if err := tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil)); err != nil {
			a.log.Debug("response not sent", "status", code, "err", err)
		}
		return
	}
	h, badEvent := a.dispatch.lookup(req)
	if h != nil {
		h(req, tx)
		return
	}
	if req.IsAck() || tx == nil {
		return
	}
	var res *sip.Response
	switch {
	case badEvent:
		res = sip.NewResponseFromRequest(req, 489, "Bad Event", nil)
		res.AppendHeader(sip.NewHeader("Allow-Events", a.dispatch.events(req.Method)))
	case req.Method == sip.OPTIONS:
		res = sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		res.AppendHeader(sip.NewHeader("Allow", a.dispatch.allow()))
	default:
		res = sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
		res.AppendHeader(sip.NewHeader("Allow", a.dispatch.allow()))
	}
	if err := tx.Respond(res); err != nil {
		a.log.Debug("response not sent", "status", res.StatusCode, "err", err)
	}
}
