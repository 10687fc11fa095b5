package call

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tipring/tipring/sip/sdp"
)

// mediaTimeout bounds the creation of an incoming call's media.
const mediaTimeout = 5 * time.Second

// reasons are the reason phrases of the responses this package sends.
var reasons = map[int]string{
	180: "Ringing", 183: "Session Progress", 200: "OK", 202: "Accepted", 302: "Moved Temporarily",
	400: "Bad Request", 403: "Forbidden", 404: "Not Found", 415: "Unsupported Media Type",
	420: "Bad Extension", 422: "Session Interval Too Small", 433: "Anonymity Disallowed", 480: "Temporarily Unavailable",
	481: "Call/Transaction Does Not Exist", 486: "Busy Here", 487: "Request Terminated",
	488: "Not Acceptable Here", 491: "Request Pending", 500: "Server Internal Error",
	503: "Service Unavailable", 504: "Server Time-out", 600: "Busy Everywhere", 603: "Decline",
}

func reasonFor(code int) string {
	if r, ok := reasons[code]; ok {
		return r
	}
	switch {
	case code >= 600:
		return "Global Failure"
	case code >= 500:
		return "Server Error"
	case code >= 400:
		return "Request Failure"
	}
	return "Status " + strconv.Itoa(code)
}

// ourOptions are the extensions a Require header may name.
var ourOptions = []string{"100rel", "timer", "replaces"}

// onInvite handles a new INVITE for the line (RFC 3261 §13.3): checks,
// 100 Trying, and the call offered on Incoming. It returns once the
// INVITE has its final response.
func (l *Line) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	respond := func(code int, hdrs ...sip.Header) { l.r.respond(tx, req, code, reasonFor(code), hdrs...) }
	if req.CallID() == nil || req.CSeq() == nil || req.From() == nil || req.Contact() == nil {
		respond(400)
		return
	}
	var unsupported []string
	for _, v := range headerValues(req, "Require") {
		for _, t := range strings.Split(v, ",") {
			t = strings.ToLower(strings.TrimSpace(t))
			if t != "" && !hasOption(ourOptions, t) {
				unsupported = append(unsupported, t)
			}
		}
	}
	if len(unsupported) > 0 {
		respond(420, sip.NewHeader("Unsupported", strings.Join(unsupported, ", ")))
		return
	}
	var replaced *Call
	if v := headerValue(req, "Replaces"); v != "" {
		rp, err := parseReplaces(v)
		if err != nil {
			respond(400)
			return
		}
		replaced = l.r.callByDialog(rp.CallID, rp.ToTag, rp.FromTag)
		if replaced == nil {
			respond(481)
			return
		}
		if rp.EarlyOnly && replaced.State() == StateActive {
			respond(486)
			return
		}
	}
	var reqSE *sessionExpires
	if v := headerValue(req, "Session-Expires"); v != "" && l.cfg.SessionExpires > 0 {
		se, err := parseSessionExpires(v)
		if err != nil {
			respond(400)
			return
		}
		if se.Interval < l.cfg.MinSE {
			// RFC 4028 §8.1.
			respond(422, sip.NewHeader("Min-SE", strconv.Itoa(int(l.cfg.MinSE/time.Second))))
			return
		}
		reqSE = &se
	}
	if l.busy(replaced) {
		respond(486)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), mediaTimeout)
	media, neg, err := l.newMedia(ctx)
	cancel()
	if err != nil {
		l.log.Warn("incoming call refused", "err", err)
		respond(503)
		return
	}
	localTag := randomToken(8)
	// Every response to this INVITE, sipgo's 487 included, carries our
	// tag (RFC 3261 §8.2.6.2). Nothing has answered the request yet.
	req.To().Params.Add("tag", localTag)
	d, err := dialogFromRequest(req, localTag)
	if err != nil {
		_ = media.Close()
		respond(400)
		return
	}
	c := l.newCall(Incoming, d.callID, localTag)
	c.dlg, c.media, c.neg = d, media, neg
	srv := &serverInvite{req: req, tx: tx, acked: make(chan struct{}), offerless: !isSDP(req)}
	if !srv.offerless {
		answer, _, err := neg.Answer(req.Body())
		if err != nil {
			_ = media.Close()
			if errors.Is(err, sdp.ErrNotAcceptable) {
				l.log.Info("incoming offer not acceptable", "err", err)
				respond(488)
			} else {
				respond(400)
			}
			return
		}
		c.answer = answer
	}
	c.srv, c.initial = srv, srv
	c.reqSE = reqSE
	c.remoteParty = callerParty(req.From().Value(), headerValues(req, "P-Asserted-Identity"), strings.Join(headerValues(req, "Privacy"), ";"))
	for _, v := range headerValues(req, "Alert-Info") {
		if ai, err := parseAlertInfo(v); err == nil {
			c.alert = append(c.alert, ai...)
		}
	}
	c.replaces = replaced
	c.state = StateOffered
	if !l.addCall(c) {
		_ = media.Close()
		respond(480)
		return
	}
	l.r.addCall(c)
	respond(100)
	if stx, ok := tx.(*sip.ServerTx); ok {
		stx.OnCancel(func(*sip.Request) { go c.end(Event{Cause: EndCancelled, Code: 487, Reason: "Request Terminated"}) })
	}
	c.log.Info("incoming call", "from", c.remoteParty.Number, "name", c.remoteParty.Name)
	select {
	case l.incoming <- c:
	default:
		c.log.Warn("incoming call refused: controller not reading")
		_ = c.Reject(486)
		return
	}
	select {
	case <-c.final:
	case <-tx.Done():
		c.end(Event{Cause: EndError, Err: fmt.Errorf("%w: INVITE transaction ended: %w", ErrNoResponse, tx.Err())})
	}
}

// responseLocked builds our response to req in the call's dialog: our
// tag, Contact on 18x and 2xx to dialog-creating and target-refreshing
// requests, Allow and Supported.
func (c *Call) responseLocked(req *sip.Request, code int) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reasonFor(code), nil)
	if to := res.To(); to != nil && !to.Params.Has("tag") {
		to.Params.Add("tag", c.localTag)
	}
	if code > 100 && code < 300 && (req.IsInvite() || req.Method == sip.UPDATE || req.Method == sip.SUBSCRIBE) {
		transport := strings.ToLower(req.Transport())
		local := c.line.r.agent.SentBy(req.Source(), transport)
		res.AppendHeader(&sip.ContactHeader{Address: c.line.contact(transport, local)})
	}
	if code >= 200 && code < 300 || code == 405 {
		res.AppendHeader(sip.NewHeader("Allow", allowMethods))
		res.AppendHeader(sip.NewHeader("Supported", supportedExtensions))
	}
	res.AppendHeader(sip.NewHeader("Server", c.line.userAgent()))
	return res
}

// Ring tells the caller that the phone rings (180 Ringing), reliably
// (RFC 3262) when the caller requires 100rel, or supports it and the line
// asks for it.
func (c *Call) Ring() error {
	c.mu.Lock()
	switch {
	case c.ended:
		c.mu.Unlock()
		return ErrEnded
	case c.dir != Incoming:
		c.mu.Unlock()
		return ErrState
	case c.state == StateRinging:
		c.mu.Unlock()
		return nil
	case c.state != StateOffered:
		c.mu.Unlock()
		return ErrState
	}
	c.state = StateRinging
	srv := c.srv
	req := srv.req
	reliable := hasOption(headerValues(req, "Require"), "100rel") ||
		c.line.cfg.Reliable18x && hasOption(headerValues(req, "Supported"), "100rel")
	res := c.responseLocked(req, 180)
	var rel *reliable1xx
	if reliable {
		rel = &reliable1xx{rseq: randUint31()%(1<<20) + 1, cseq: req.CSeq().SeqNo, res: res, pracked: make(chan struct{})}
		res.AppendHeader(sip.NewHeader("Require", "100rel"))
		res.AppendHeader(sip.NewHeader("RSeq", strconv.FormatUint(uint64(rel.rseq), 10)))
		c.rel = rel
	}
	res.SetBody(nil)
	c.mu.Unlock()
	if err := srv.tx.Respond(res); err != nil {
		return fmt.Errorf("call: 180: %w", err)
	}
	if rel != nil {
		c.line.wg.Go(func() { c.retransmit1xx(srv, rel) })
	}
	return nil
}

// retransmit1xx repeats a reliable provisional response until its PRACK
// (RFC 3262 §3): at T1, doubling; after 64·T1 the INVITE is refused with
// 504.
func (c *Call) retransmit1xx(srv *serverInvite, rel *reliable1xx) {
	t1 := c.line.cfg.T1
	interval := t1
	timer := time.NewTimer(interval)
	defer timer.Stop()
	deadline := time.NewTimer(64 * t1)
	defer deadline.Stop()
	for {
		select {
		case <-rel.pracked:
			return
		case <-c.final:
			return
		case <-timer.C:
			if !sip.IsReliable(srv.req.Transport()) {
				if err := srv.tx.Respond(rel.res); err != nil {
					c.log.Debug("reliable 180 retransmission", "err", err)
				}
			}
			interval *= 2
			timer.Reset(interval)
		case <-deadline.C:
			c.log.Info("no PRACK for reliable provisional response")
			c.rejectWith(504, EndTimeout)
			return
		}
	}
}

// onPrack answers a PRACK (RFC 3262 §3): 200 when its RAck names our
// outstanding reliable provisional response, 481 otherwise.
func (c *Call) onPrack(req *sip.Request, tx sip.ServerTransaction) {
	ra, err := parseRAck(headerValue(req, "RAck"))
	c.mu.Lock()
	rel := c.rel
	ok := err == nil && rel != nil && ra.RSeq == rel.rseq && ra.CSeq == rel.cseq && ra.Method == "INVITE"
	res := c.responseLocked(req, 200)
	if !ok {
		res = c.responseLocked(req, 481)
	}
	c.mu.Unlock()
	res.SetBody(nil)
	if err := tx.Respond(res); err != nil {
		c.log.Debug("PRACK response", "err", err)
	}
	// Only now: what waits for the PRACK (the 200 to the INVITE) must
	// not overtake the PRACK's own 200.
	if ok {
		rel.once.Do(func() { close(rel.pracked) })
	}
}

// Answer answers an incoming call: 200 OK with our SDP answer (or offer,
// for an INVITE without one) and Session-Expires. Media starts at once;
// the call turns active (EventAnswered) with the caller's ACK, and ends
// with BYE when no ACK comes within 64·T1. A call this one replaces
// (RFC 3891) is ended.
func (c *Call) Answer(ctx context.Context) error {
	c.mu.Lock()
	switch {
	case c.ended:
		c.mu.Unlock()
		return ErrEnded
	case c.dir != Incoming || c.state != StateOffered && c.state != StateRinging:
		c.mu.Unlock()
		return ErrState
	}
	c.state = StateAnswering
	srv := c.srv
	body := c.answer
	if srv.offerless {
		offer, err := c.neg.Offer()
		if err != nil {
			c.mu.Unlock()
			c.rejectWith(500, EndError)
			return fmt.Errorf("call: offer: %w", err)
		}
		body = offer
	}
	res := c.responseLocked(srv.req, 200)
	c.sessionHeadersLocked(srv.req, res)
	setBody(res, "application/sdp", body)
	srv.res = res
	if !srv.offerless {
		c.applyResultLocked(c.neg.Result(), false)
	}
	c.startSessionTimerLocked()
	replaced := c.replaces
	c.mu.Unlock()
	if err := srv.tx.Respond(res); err != nil {
		c.end(Event{Cause: EndError, Err: err})
		return fmt.Errorf("call: 200: %w", err)
	}
	c.finalOnce.Do(func() { close(c.final) })
	c.line.wg.Go(func() { c.await2xxAck(srv) })
	if replaced != nil {
		c.line.wg.Go(func() { replaced.bye(context.WithoutCancel(ctx), Event{Cause: EndReplaced}) })
	}
	return nil
}

// Reject refuses an incoming call not yet answered with a final response:
// code 486 (Busy Here), 480, 603 (Decline), or any from 300 to 699; 0
// means 486.
func (c *Call) Reject(code int) error {
	if code == 0 {
		code = 486
	}
	if code < 300 || code > 699 {
		return fmt.Errorf("%w: rejection code %d", ErrState, code)
	}
	c.mu.Lock()
	switch {
	case c.ended:
		c.mu.Unlock()
		return ErrEnded
	case c.dir != Incoming || c.state != StateOffered && c.state != StateRinging:
		c.mu.Unlock()
		return ErrState
	}
	c.mu.Unlock()
	return c.rejectWith(code, EndLocal)
}

// Redirect sends an incoming call not yet answered elsewhere: 302 Moved
// Temporarily with target in its Contact (RFC 3261 §21.3.3), which the
// caller (or its proxy) calls instead. target is a number or user, called
// at the line's domain, or a sip:, sips: or tel: URI; this is how a line
// forwards calls. The call ends with EndLocal and Code 302.
func (c *Call) Redirect(target string) error {
	uri, err := c.line.targetURI(target)
	if err != nil {
		return err
	}
	c.mu.Lock()
	switch {
	case c.ended:
		c.mu.Unlock()
		return ErrEnded
	case c.dir != Incoming || c.state != StateOffered && c.state != StateRinging:
		c.mu.Unlock()
		return ErrState
	}
	c.mu.Unlock()
	return c.rejectWith(302, EndLocal, &sip.ContactHeader{Address: uri})
}

func (c *Call) rejectWith(code int, cause EndCause, extra ...sip.Header) error {
	c.mu.Lock()
	srv := c.initial
	res := c.responseLocked(srv.req, code)
	for _, h := range extra {
		res.AppendHeader(h)
	}
	res.SetBody(nil)
	c.mu.Unlock()
	err := srv.tx.Respond(res)
	c.finalOnce.Do(func() { close(c.final) })
	c.end(Event{Cause: cause, Code: code, Reason: reasonFor(code)})
	if err != nil {
		return fmt.Errorf("call: %d: %w", code, err)
	}
	return nil
}

// await2xxAck retransmits our 2xx to an INVITE until its ACK (RFC 3261
// §13.3.1.4): at T1, doubling up to T2, over unreliable transports; with
// no ACK in 64·T1 the dialog ends with BYE.
func (c *Call) await2xxAck(srv *serverInvite) {
	t1 := c.line.cfg.T1
	interval := t1
	timer := time.NewTimer(interval)
	defer timer.Stop()
	deadline := time.NewTimer(64 * t1)
	defer deadline.Stop()
	unreliable := !sip.IsReliable(srv.req.Transport())
	for {
		select {
		case <-srv.acked:
			return
		case <-c.done:
			return
		case <-timer.C:
			if unreliable {
				if err := srv.tx.Respond(srv.res); err != nil {
					c.log.Debug("2xx retransmission", "err", err)
				}
			}
			interval = min(2*interval, defaultT2)
			timer.Reset(interval)
		case <-deadline.C:
			c.log.Info("no ACK for 2xx: ending the call")
			c.bye(context.Background(), Event{Cause: EndTimeout, Reason: "no ACK"})
			return
		}
	}
}

// onAck takes the ACK for our 2xx: the dialog is confirmed; for an
// offer in our 2xx, the ACK carries the answer.
func (c *Call) onAck(req *sip.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	srv := c.srv
	if srv == nil || srv.res == nil || req.CSeq() == nil || req.CSeq().SeqNo != srv.req.CSeq().SeqNo {
		return
	}
	srv.ackOnce.Do(func() { close(srv.acked) })
	c.srv = nil
	var answerErr error
	if srv.offerless {
		if isSDP(req) {
			if result, err := c.neg.ApplyAnswer(req.Body()); err != nil {
				answerErr = err
			} else {
				c.applyResultLocked(result, false)
			}
		} else {
			c.neg.CancelOffer()
			if c.neg.Result() == nil {
				answerErr = fmt.Errorf("%w: ACK without an answer", ErrMalformed)
			}
		}
	}
	if answerErr != nil {
		c.log.Warn("answer in ACK refused", "err", answerErr)
		go c.bye(context.Background(), Event{Cause: EndError, Err: answerErr})
		return
	}
	if srv == c.initial && c.state == StateAnswering {
		c.state = StateActive
		c.emitLocked(Event{Kind: EventAnswered, Code: 200, Reason: "OK"})
	}
}
