package call

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tipring/tipring/sip/sdp"
)

// checkSeqLocked applies RFC 3261 §12.2.2: a request whose CSeq is lower
// than the last from the peer is out of order. It records the new one.
func (c *Call) checkSeqLocked(req *sip.Request) bool {
	d := c.dlg
	if d == nil || req.CSeq() == nil {
		return false
	}
	n := req.CSeq().SeqNo
	if d.remoteSeq != 0 && n < d.remoteSeq {
		return false
	}
	if n > d.remoteSeq {
		d.remoteSeq = n
	}
	return true
}

// refreshTargetLocked takes a target refresh request's Contact (RFC 3261
// §12.2.2).
func (c *Call) refreshTargetLocked(req *sip.Request) {
	if ct := req.Contact(); ct != nil && c.dlg != nil {
		c.dlg.target = ct.Address
	}
	if a := allowOf(req); a != nil && c.dlg != nil {
		c.dlg.allow = a
	}
}

func (c *Call) reply(tx sip.ServerTransaction, res *sip.Response) {
	if res.Body() == nil {
		res.SetBody(nil)
	}
	if err := tx.Respond(res); err != nil {
		c.log.Debug("response not sent", "status", res.StatusCode, "err", err)
	}
}

// onRequest handles a request inside the call's dialog other than INVITE
// and ACK.
func (c *Call) onRequest(req *sip.Request, tx sip.ServerTransaction) {
	if req.Method == sip.PRACK {
		c.onPrack(req, tx)
		return
	}
	c.holdEvents()
	defer c.releaseEvents()
	c.mu.Lock()
	if c.ended {
		res := c.responseLocked(req, 481)
		c.mu.Unlock()
		c.reply(tx, res)
		return
	}
	if !c.checkSeqLocked(req) {
		res := c.responseLocked(req, 500)
		c.mu.Unlock()
		c.reply(tx, res)
		return
	}
	c.mu.Unlock()
	switch req.Method {
	case sip.BYE:
		c.onBye(req, tx)
	case sip.OPTIONS:
		c.mu.Lock()
		res := c.responseLocked(req, 200)
		res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
		c.mu.Unlock()
		c.reply(tx, res)
	case sip.UPDATE:
		c.onUpdate(req, tx)
	case sip.INFO:
		c.onInfo(req, tx)
	case sip.REFER:
		c.onRefer(req, tx)
	case sip.NOTIFY:
		c.onNotify(req, tx)
	default:
		c.mu.Lock()
		res := c.responseLocked(req, 405)
		c.mu.Unlock()
		c.reply(tx, res)
	}
}

// onBye ends the call (RFC 3261 §15.1.2); a BYE before our final
// response to the initial INVITE also ends that with 487.
func (c *Call) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	res := c.responseLocked(req, 200)
	pending := c.dir == Incoming && (c.state == StateOffered || c.state == StateRinging)
	c.mu.Unlock()
	c.reply(tx, res)
	if pending {
		_ = c.rejectWith(487, EndRemote)
		return
	}
	c.end(Event{Cause: EndRemote})
}

// onInfo takes DTMF in INFO (application/dtmf-relay, application/dtmf);
// an INFO without a body is answered 200, other bodies 415.
func (c *Call) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct, _, _ = strings.Cut(strings.ToLower(h.Value()), ";")
		ct = strings.TrimSpace(ct)
	}
	c.mu.Lock()
	var ev *Event
	code := 200
	switch {
	case len(req.Body()) == 0:
	case ct == "application/dtmf-relay":
		d, dur, err := parseDTMFRelay(req.Body())
		if err != nil {
			code = 400
		} else {
			ev = &Event{Kind: EventDTMF, Digit: d, Duration: dur}
		}
	case ct == "application/dtmf":
		if d, ok := dtmfDigit(strings.TrimSpace(string(req.Body()))); ok {
			ev = &Event{Kind: EventDTMF, Digit: d}
		} else {
			code = 400
		}
	default:
		code = 415
	}
	res := c.responseLocked(req, code)
	if code == 415 {
		res.AppendHeader(sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
	}
	if ev != nil {
		c.emitLocked(*ev)
	}
	c.mu.Unlock()
	c.reply(tx, res)
}

// answerOfferLocked answers an offer in a re-INVITE or UPDATE. It returns
// the status to send (200, 488 or 400) and our answer.
func (c *Call) answerOfferLocked(offer []byte) (int, []byte) {
	body, result, err := c.neg.Answer(offer)
	switch {
	case errors.Is(err, sdp.ErrNotAcceptable):
		c.log.Info("re-offer not acceptable", "err", err)
		return 488, nil
	case err != nil:
		return 400, nil
	}
	c.applyResultLocked(result, c.state != StateActive && c.state != StateAnswering)
	return 200, body
}

// onReinvite handles a re-INVITE (RFC 3261 §14.2): 491 while our own
// offer is out, 500 with Retry-After while another INVITE of the peer's
// is unfinished, else an answer (or, without an offer, our offer).
func (c *Call) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	c.holdEvents()
	defer c.releaseEvents()
	c.mu.Lock()
	var res *sip.Response
	switch {
	case c.ended:
		res = c.responseLocked(req, 481)
	case !c.checkSeqLocked(req):
		res = c.responseLocked(req, 500)
	case c.offering:
		res = c.responseLocked(req, 491)
	case c.srv != nil || c.state != StateActive:
		res = c.responseLocked(req, 500)
		res.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(mrand.IntN(10)+1)))
	}
	if res != nil {
		c.mu.Unlock()
		c.reply(tx, res)
		return
	}
	if code, ok := c.checkRefreshLocked(req); !ok {
		res = c.responseLocked(req, code)
		res.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(int(c.line.cfg.MinSE/time.Second))))
		c.mu.Unlock()
		c.reply(tx, res)
		return
	}
	srv := &serverInvite{req: req, tx: tx, acked: make(chan struct{}), offerless: !isSDP(req)}
	var body []byte
	code := 200
	if srv.offerless {
		offer, err := c.neg.Offer()
		if err != nil {
			code = 500
		}
		body = offer
	} else {
		code, body = c.answerOfferLocked(req.Body())
	}
	res = c.responseLocked(req, code)
	if code != 200 {
		c.mu.Unlock()
		c.reply(tx, res)
		return
	}
	c.refreshTargetLocked(req)
	c.sessionHeadersLocked(req, res)
	c.startSessionTimerLocked()
	setBody(res, "application/sdp", body)
	srv.res = res
	c.srv = srv
	c.mu.Unlock()
	c.reply(tx, res)
	c.line.wg.Go(func() { c.await2xxAck(srv) })
}

// onUpdate handles UPDATE (RFC 3311 §5.2): an offer is answered (491
// while ours is out), one without SDP is a session refresh.
func (c *Call) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	var res *sip.Response
	if code, ok := c.checkRefreshLocked(req); !ok {
		res = c.responseLocked(req, code)
		res.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(int(c.line.cfg.MinSE/time.Second))))
		c.mu.Unlock()
		c.reply(tx, res)
		return
	}
	var body []byte
	code := 200
	if isSDP(req) {
		if c.offering || c.srv != nil && c.srv.offerless {
			code = 491
		} else {
			code, body = c.answerOfferLocked(req.Body())
		}
	}
	res = c.responseLocked(req, code)
	if code == 200 {
		c.refreshTargetLocked(req)
		c.sessionHeadersLocked(req, res)
		if c.state == StateActive || c.state == StateAnswering {
			c.startSessionTimerLocked()
		}
		if body != nil {
			setBody(res, "application/sdp", body)
		}
	}
	c.mu.Unlock()
	c.reply(tx, res)
}

// Hold puts the far end on hold: a re-INVITE offering sendonly (RFC 3264
// §8.4). The media goes on sending, so the line can play music or a tone.
func (c *Call) Hold(ctx context.Context) error { return c.setHold(ctx, sdp.HoldSendOnly) }

// Resume takes the far end off hold: a re-INVITE offering sendrecv.
func (c *Call) Resume(ctx context.Context) error { return c.setHold(ctx, sdp.NotHeld) }

// PassThrough re-offers the call for voiceband data, once a fax or modem
// tone has been heard in it: a re-INVITE offering only the codec in use,
// without telephone-events or comfort noise and with silence suppression
// off (sdp.Negotiator.SetPassThrough). The media's own pass-through (a
// fixed jitter buffer) is the line's to set.
func (c *Call) PassThrough(ctx context.Context) error {
	return c.reofferRetrying(ctx, func() { c.neg.SetPassThrough(true) }, func() {})
}

// glareRetries bounds the re-INVITEs sent after 491 answers.
const glareRetries = 3

// glareWait is how long to wait before retrying after a 491 (RFC 3261
// §14.1): 2.1 to 4 s for the owner of the Call-ID (who placed the call),
// 0 to 2 s otherwise, in units of 10 ms.
func glareWait(owner bool) time.Duration {
	if owner {
		return time.Duration(210+mrand.IntN(190)) * 10 * time.Millisecond
	}
	return time.Duration(mrand.IntN(201)) * 10 * time.Millisecond
}

// setHold re-offers with hold state h, retrying after glare.
func (c *Call) setHold(ctx context.Context, h sdp.Hold) error {
	return c.reofferRetrying(ctx, func() { c.neg.SetHold(h) }, func() { c.localHold = h })
}

// reofferRetrying re-offers (see reoffer), retrying after glare (RFC 3261
// §14.1).
func (c *Call) reofferRetrying(ctx context.Context, prepare, commit func()) error {
	for attempt := 0; ; attempt++ {
		err := c.reoffer(ctx, prepare, commit)
		if !errors.Is(err, errGlare) {
			return err
		}
		if attempt == glareRetries {
			return ErrGlare
		}
		select {
		case <-time.After(glareWait(c.dir == Outgoing)):
		case <-ctx.Done():
			return fmt.Errorf("call: re-INVITE: %w", ctx.Err())
		case <-c.done:
			return ErrEnded
		}
	}
}

// errGlare marks a 491 answer to our re-INVITE.
var errGlare = errors.New("call: 491 request pending")

// reoffer sends a re-INVITE with a new offer made after prepare; commit
// runs when it is accepted. A failure restores the previous state.
func (c *Call) reoffer(ctx context.Context, prepare, commit func()) error {
	c.mu.Lock()
	switch {
	case c.ended:
		c.mu.Unlock()
		return ErrEnded
	case c.state != StateActive:
		c.mu.Unlock()
		return ErrState
	case c.offering || c.srv != nil:
		c.mu.Unlock()
		return ErrBusy
	}
	prevHold := c.localHold
	prepare()
	offer, err := c.neg.Offer()
	if err != nil {
		c.neg.SetHold(prevHold)
		c.mu.Unlock()
		return fmt.Errorf("call: offer: %w", err)
	}
	c.offering = true
	hdrs := c.sessionRequestHeadersLocked()
	c.mu.Unlock()
	res, err := c.request(ctx, sip.INVITE, hdrs, func() (string, []byte) { return "application/sdp", offer })
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offering = false
	fail := func() {
		c.neg.CancelOffer()
		c.neg.SetHold(prevHold)
	}
	switch {
	case err != nil:
		fail()
		return err
	case res.StatusCode == 491:
		fail()
		return errGlare
	case !res.IsSuccess():
		fail()
		return &StatusError{Method: "INVITE", Code: res.StatusCode, Reason: res.Reason}
	case !isSDP(res):
		fail()
		return fmt.Errorf("%w: 2xx to re-INVITE without an answer", ErrMalformed)
	}
	result, err := c.neg.ApplyAnswer(res.Body())
	if err != nil {
		c.neg.SetHold(prevHold)
		return fmt.Errorf("call: answer to re-INVITE: %w", err)
	}
	commit()
	c.applyResultLocked(result, false)
	c.emitLocked(Event{Kind: EventMediaChanged, Code: res.StatusCode, Reason: res.Reason})
	c.startSessionTimerFromResponseLocked(res)
	return nil
}

// SendDTMF sends a digit (0-9, *, #, A-D) in a SIP INFO request
// (application/dtmf-relay), for peers that take digits that way.
func (c *Call) SendDTMF(ctx context.Context, digit rune, d time.Duration) error {
	dg, ok := dtmfDigit(string(digit))
	if !ok {
		return fmt.Errorf("%w: digit %q", ErrState, digit)
	}
	if d <= 0 {
		d = 100 * time.Millisecond
	}
	body := fmt.Appendf(nil, "Signal=%c\r\nDuration=%d\r\n", dg, d.Milliseconds())
	res, err := c.request(ctx, sip.INFO, nil, func() (string, []byte) { return "application/dtmf-relay", body })
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return &StatusError{Method: "INFO", Code: res.StatusCode, Reason: res.Reason}
	}
	return nil
}
