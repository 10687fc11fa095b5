package call

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// sipfragType is the NOTIFY body type for REFER progress (RFC 3515
// §2.4.5).
const sipfragType = "message/sipfrag;version=2.0"

// Transfer asks the far end to call target instead of us (a blind
// transfer, RFC 3515 REFER). It returns once the REFER is accepted; the
// far end's progress arrives as EventTransferProgress events, the last
// with Final set. The call itself stays up: the controller hangs it up
// when the transfer succeeded.
func (c *Call) Transfer(ctx context.Context, target string) error {
	uri, err := c.line.targetURI(target)
	if err != nil {
		return err
	}
	return c.refer(ctx, referToValue(uri.String(), nil))
}

// TransferTo asks the far end to replace other's far end with itself (an
// attended transfer): a REFER whose Refer-To names other's peer with a
// Replaces header for other's dialog (RFC 3891 §5, RFC 5589 §7). other
// must be an answered call of ours.
func (c *Call) TransferTo(ctx context.Context, other *Call) error {
	if other == nil || other == c {
		return fmt.Errorf("%w: transfer to itself or nothing", ErrState)
	}
	other.mu.Lock()
	d := other.dlg
	if other.ended || other.state != StateActive || d == nil {
		other.mu.Unlock()
		return fmt.Errorf("%w: the other call is not answered", ErrState)
	}
	// From the transfer target's point of view its own tag is the
	// to-tag (RFC 3891 §3).
	rp := replaces{CallID: d.callID, ToTag: d.remoteTag, FromTag: d.localTag}
	target := d.target
	target.UriParams = nil
	target.Headers = nil
	if t := transportOfURI(d.target, "udp"); t != "udp" {
		target.UriParams = sip.NewParams()
		target.UriParams.Add("transport", t)
	}
	other.mu.Unlock()
	return c.refer(ctx, referToValue(target.String(), &rp))
}

func (c *Call) refer(ctx context.Context, referTo string) error {
	c.mu.Lock()
	switch {
	case c.ended:
		c.mu.Unlock()
		return ErrEnded
	case c.state != StateActive:
		c.mu.Unlock()
		return ErrState
	case c.referring:
		c.mu.Unlock()
		return ErrBusy
	}
	c.referring = true
	by := sip.Uri{Scheme: "sip", User: c.line.cfg.User, Host: c.line.cfg.Domain}
	c.mu.Unlock()
	hdrs := []sip.Header{
		sip.NewHeader("Refer-To", referTo),
		sip.NewHeader("Referred-By", "<"+by.String()+">"),
	}
	res, err := c.request(ctx, sip.REFER, hdrs, nil)
	if err == nil && !res.IsSuccess() {
		err = &StatusError{Method: "REFER", Code: res.StatusCode, Reason: res.Reason}
	}
	if err != nil {
		c.mu.Lock()
		c.referring = false
		c.mu.Unlock()
		return err
	}
	return nil
}

// onNotify takes a NOTIFY of the refer subscription our REFER made (RFC
// 3515 §2.4.4): its sipfrag is reported as EventTransferProgress.
func (c *Call) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	event, _, _ := strings.Cut(headerValue(req, "Event"), ";")
	c.mu.Lock()
	if !strings.EqualFold(strings.TrimSpace(event), "refer") {
		res := c.responseLocked(req, 489)
		res.Reason = "Bad Event"
		c.mu.Unlock()
		c.reply(tx, res)
		return
	}
	code, reason, err := parseSipfrag(req.Body())
	if err != nil {
		res := c.responseLocked(req, 400)
		c.mu.Unlock()
		c.reply(tx, res)
		return
	}
	final := code >= 200 || strings.HasPrefix(strings.ToLower(strings.TrimSpace(headerValue(req, "Subscription-State"))), "terminated")
	if final {
		c.referring = false
	}
	// The event reaches the controller after our 200 (holdEvents in
	// onRequest), so a controller that hangs up on the final report
	// cannot get its BYE out ahead of it.
	c.emitLocked(Event{Kind: EventTransferProgress, Code: code, Reason: reason, Final: final})
	res := c.responseLocked(req, 200)
	c.mu.Unlock()
	c.reply(tx, res)
}

// Referral is a request of the far end's to call someone (an incoming
// REFER, RFC 3515). The controller accepts it, which places the call on
// the line and reports its progress back, or rejects it.
type Referral struct {
	// Target is the URI to call, without the headers of Refer-To.
	Target string
	// ReferredBy is the Referred-By header, if any.
	ReferredBy string
	// Attended tells that the Refer-To carries Replaces: the new call is
	// to take over a call the target has with the referrer.
	Attended bool

	from     *Call
	replaces *replaces

	mu      sync.Mutex
	handled bool
	frags   chan frag
	wg      sync.WaitGroup
}

// frag is one NOTIFY to send: a status line and whether it ends the
// subscription.
type frag struct {
	code   int
	reason string
	final  bool
}

// onRefer accepts a REFER with 202 (RFC 3515 §2.4.2), sends the initial
// NOTIFY and offers the referral to the controller.
func (c *Call) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	vals := headerValues(req, "Refer-To")
	c.mu.Lock()
	if len(vals) != 1 {
		res := c.responseLocked(req, 400)
		c.mu.Unlock()
		c.reply(tx, res)
		return
	}
	rt, err := parseReferTo(vals[0])
	if err != nil || c.state != StateActive {
		code := 400
		if err == nil {
			code = 603
		}
		res := c.responseLocked(req, code)
		c.mu.Unlock()
		c.reply(tx, res)
		return
	}
	c.refreshTargetLocked(req)
	ref := &Referral{
		Target: rt.URI, ReferredBy: headerValue(req, "Referred-By"), Attended: rt.Replaces != nil,
		from: c, replaces: rt.Replaces, frags: make(chan frag, 16),
	}
	res := c.responseLocked(req, 202)
	c.mu.Unlock()
	c.reply(tx, res)
	ref.wg.Add(1)
	c.line.wg.Go(func() {
		defer ref.wg.Done()
		ref.notifyLoop()
	})
	ref.notify(frag{code: 100, reason: "Trying"})
	c.emit(Event{Kind: EventReferral, Referral: ref})
}

// notify queues a NOTIFY; the last one is final.
func (r *Referral) notify(f frag) {
	select {
	case r.frags <- f:
	default:
		if f.final {
			r.frags <- f
		}
	}
}

// notifyLoop sends the referral's NOTIFYs in order until the final one.
func (r *Referral) notifyLoop() {
	for f := range r.frags {
		state := "active;expires=60"
		if f.final {
			state = "terminated;reason=noresource"
		}
		hdrs := []sip.Header{sip.NewHeader("Event", "refer"), sip.NewHeader("Subscription-State", state)}
		body := fmt.Appendf(nil, "SIP/2.0 %d %s\r\n", f.code, f.reason)
		ctx, cancel := context.WithTimeout(context.Background(), r.from.line.cfg.RequestTimeout)
		res, err := r.from.request(ctx, sip.NOTIFY, hdrs, func() (string, []byte) { return sipfragType, body })
		cancel()
		if err != nil {
			r.from.log.Info("NOTIFY failed", "err", err)
		} else if !res.IsSuccess() {
			r.from.log.Info("NOTIFY answered", "status", res.StatusCode)
		}
		if f.final {
			return
		}
	}
}

// Accept places the referred call on the referrer's line, with Replaces
// and Referred-By as the REFER asked, and reports its progress to the
// referrer in NOTIFYs until it is answered or fails.
func (r *Referral) Accept(ctx context.Context) (*Call, error) {
	r.mu.Lock()
	if r.handled {
		r.mu.Unlock()
		return nil, ErrNotHandled
	}
	r.handled = true
	r.mu.Unlock()
	var extra []sip.Header
	if r.replaces != nil {
		extra = append(extra, sip.NewHeader("Replaces", r.replaces.String()))
	}
	if r.ReferredBy != "" {
		extra = append(extra, sip.NewHeader("Referred-By", r.ReferredBy))
	}
	nc, err := r.from.line.dialWithHook(ctx, r.Target, extra, r.progress)
	if err != nil {
		r.notify(frag{code: 503, reason: "Service Unavailable", final: true})
		return nil, err
	}
	return nc, nil
}

// Reject declines the referral: the referrer learns 603 Declined.
func (r *Referral) Reject() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.handled {
		return ErrNotHandled
	}
	r.handled = true
	r.notify(frag{code: 603, reason: "Declined", final: true})
	return nil
}

// progress turns the outcome of the referred call into the final NOTIFY.
// Provisional responses are not relayed: the initial 100 Trying already
// tells the referrer the attempt is under way (RFC 3515 §2.4.4 leaves
// the intermediate NOTIFYs to the notifier).
func (r *Referral) progress(ev Event) {
	switch ev.Kind {
	case EventAnswered:
		r.notify(frag{code: 200, reason: "OK", final: true})
	case EventEnded:
		code, reason := ev.Code, ev.Reason
		if code < 300 {
			code, reason = 487, "Request Terminated"
		}
		r.notify(frag{code: code, reason: reason, final: true})
	}
}
