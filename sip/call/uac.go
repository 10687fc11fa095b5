package call

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tipring/tipring/sip/internal/hostport"
)

// Dial places a call to number: a bare number or user is called at the
// line's domain through its proxy; "user@host", sip:, sips: and tel: URIs
// are understood too. It returns once the INVITE is sent; ctx bounds
// only that. Progress, early media, the answer or the failure (a
// StatusError-like Code and Reason in EventEnded) arrive as events.
func (l *Line) Dial(ctx context.Context, number string) (*Call, error) {
	return l.dialWithHook(ctx, number, nil, nil)
}

// dialWithHook places a call with extra INVITE headers (Replaces,
// Referred-By); hook sees its set-up events.
func (l *Line) dialWithHook(ctx context.Context, number string, extra []sip.Header, hook func(Event)) (*Call, error) {
	target, err := l.targetURI(number)
	if err != nil {
		return nil, err
	}
	media, neg, err := l.newMedia(ctx)
	if err != nil {
		return nil, err
	}
	offer, err := neg.Offer()
	if err != nil {
		_ = media.Close()
		return nil, fmt.Errorf("call: offer: %w", err)
	}
	c := l.newCall(Outgoing, randomToken(16), randomToken(8))
	c.media, c.neg = media, neg
	c.remoteParty = Party{Number: target.User, URI: target.String()}
	c.setupHeaders = extra
	c.hook = hook
	c.setupDone = make(chan struct{})
	c.sessionInterval = l.cfg.SessionExpires

	transport := l.cfg.Transport
	var routes []sip.Uri
	// A URI in the line's own domain (as a redirection to another of the
	// domain's users names it) goes through the proxy like a bare number;
	// other URIs go to their host.
	direct := (strings.Contains(number, "@") || strings.HasPrefix(strings.ToLower(strings.TrimSpace(number)), "sip")) &&
		!(strings.EqualFold(target.Host, l.cfg.Domain) && target.Port == 0)
	if l.cfg.OutboundProxy {
		host, port, _ := hostport.Split(l.cfg.Proxy)
		r := sip.Uri{Scheme: "sip", Host: host, Port: int(port), UriParams: sip.NewParams()}
		if transport != "udp" {
			r.UriParams.Add("transport", transport)
		}
		r.UriParams.Add("lr", "")
		routes = []sip.Uri{r}
	} else if direct {
		transport = transportOfURI(target, transport)
	}
	aor := sip.Uri{Scheme: "sip", User: l.cfg.User, Host: l.cfg.Domain}
	c.dlg = nil
	setup := &dialog{
		callID: c.callID, localTag: c.localTag,
		local: aor, localName: l.cfg.DisplayName,
		remote:   sip.Uri{Scheme: target.Scheme, User: target.User, Host: target.Host, Port: target.Port},
		localSeq: randUint31() & 0x7fff,
		target:   target, routes: routes, transport: transport,
	}
	if !l.addCall(c) {
		_ = media.Close()
		return nil, ErrClosed
	}
	l.r.addCall(c)
	viaProxy := !direct && len(routes) == 0
	build := func() *sip.Request {
		c.mu.Lock()
		defer c.mu.Unlock()
		req := c.dialogRequestLocked(setup, sip.INVITE, 0)
		if viaProxy {
			req.SetDestination(l.cfg.Proxy)
		}
		req.AppendHeader(sip.NewHeader("Allow", allowMethods))
		req.AppendHeader(sip.NewHeader("Supported", supportedExtensions))
		if c.sessionInterval > 0 {
			req.AppendHeader(sip.NewHeader("Session-Expires", sessionExpires{Interval: c.sessionInterval}.String()))
			req.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(int(l.cfg.MinSE/time.Second))))
		}
		for _, h := range c.setupHeaders {
			req.AppendHeader(sip.HeaderClone(h))
		}
		setBody(req, "application/sdp", offer)
		return req
	}
	req := build()
	if err := c.auth.authorize(req, l.cfg.AuthUser, l.cfg.Password); err != nil {
		c.end(Event{Cause: EndError, Err: err})
		return nil, err
	}
	tx, err := c.sendInvite(ctx, req)
	if err != nil {
		c.end(Event{Cause: EndError, Err: err})
		return nil, err
	}
	c.log.Info("calling", "to", target.String())
	l.wg.Go(func() { c.runUAC(tx, req, build) })
	return c, nil
}

// sendInvite starts an INVITE client transaction; further 2xx responses
// (retransmissions and forks, RFC 6026) reach extra2xx.
func (c *Call) sendInvite(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	c.mu.Lock()
	c.invite = req
	c.mu.Unlock()
	tx, err := c.line.r.agent.Client().TransactionRequest(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%w: INVITE: %w", ErrNoResponse, err)
	}
	if ctx, ok := tx.(*sip.ClientTx); ok {
		ctx.OnRetransmission(func(res *sip.Response) {
			if res.IsSuccess() {
				go c.extra2xx(req, res)
			}
		})
	}
	return tx, nil
}

// runUAC follows the INVITE to its final response.
func (c *Call) runUAC(tx sip.ClientTransaction, req *sip.Request, build func() *sip.Request) {
	defer func() {
		c.mu.Lock()
		done := c.setupDone
		c.mu.Unlock()
		select {
		case <-done:
		default:
			close(done)
		}
	}()
	answered := make(map[int]bool)
	rounds := 0
	var cancelTimer <-chan time.Time
	cancelSent := false
	wantCancel := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.cancelWanted && c.provisional && !cancelSent
	}
	for {
		if wantCancel() {
			cancelSent = true
			c.sendCancel(req)
			cancelTimer = time.After(64 * c.line.cfg.T1)
		}
		select {
		case res := <-tx.Responses():
			switch {
			case res.IsProvisional():
				c.onProvisional(req, res)
			case res.IsSuccess():
				c.onAnswer(req, res)
				return
			case (res.StatusCode == 401 || res.StatusCode == 407) && rounds < maxAuthRounds:
				name := "Authorization"
				if res.StatusCode == 407 {
					name = "Proxy-Authorization"
				}
				if err := c.auth.learn(res, answered[res.StatusCode] && req.GetHeader(name) != nil); err != nil {
					c.end(Event{Cause: EndRejected, Code: res.StatusCode, Reason: res.Reason, Err: err})
					return
				}
				answered[res.StatusCode] = true
				rounds++
				if !c.retry(&tx, &req, build) {
					return
				}
			case res.StatusCode == 422 && rounds < maxAuthRounds:
				// RFC 4028 §7.4: ask again with at least the Min-SE.
				minSE, err := parseMinSE(headerValue(res, "Min-SE"))
				c.mu.Lock()
				ok := err == nil && minSE > c.sessionInterval && minSE <= maxSessionExpires && c.sessionInterval > 0
				if ok {
					c.sessionInterval = minSE
				}
				c.mu.Unlock()
				if !ok {
					c.end(Event{Cause: EndRejected, Code: res.StatusCode, Reason: res.Reason})
					return
				}
				rounds++
				if !c.retry(&tx, &req, build) {
					return
				}
			default:
				cause := EndRejected
				if cancelSent && res.StatusCode == 487 {
					cause = EndCancelled
				}
				ev := Event{Cause: cause, Code: res.StatusCode, Reason: res.Reason,
					Err: &StatusError{Method: "INVITE", Code: res.StatusCode, Reason: res.Reason}}
				if res.StatusCode >= 300 && res.StatusCode < 400 {
					if ct := res.Contact(); ct != nil {
						ev.Target = ct.Address.String()
					}
				}
				c.end(ev)
				return
			}
		case <-tx.Done():
			if cancelSent {
				c.end(Event{Cause: EndCancelled})
			} else {
				c.end(Event{Cause: EndTimeout, Code: 408, Reason: "Request Timeout", Err: fmt.Errorf("%w: INVITE: %w", ErrNoResponse, tx.Err())})
			}
			return
		case <-cancelTimer:
			// RFC 3261 §9.1: no final response 64·T1 after the CANCEL.
			tx.Terminate()
			c.end(Event{Cause: EndCancelled})
			return
		case <-c.cancelNudge():
		}
	}
}

// cancelNudge wakes runUAC when Hangup asks for a CANCEL.
func (c *Call) cancelNudge() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nudge == nil {
		c.nudge = make(chan struct{}, 1)
	}
	return c.nudge
}

// retry sends the INVITE again after a challenge or a 422.
func (c *Call) retry(tx *sip.ClientTransaction, req **sip.Request, build func() *sip.Request) bool {
	(*tx).Terminate()
	nreq := build()
	if err := c.auth.authorize(nreq, c.line.cfg.AuthUser, c.line.cfg.Password); err != nil {
		c.end(Event{Cause: EndError, Err: err})
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.line.cfg.RequestTimeout)
	defer cancel()
	ntx, err := c.sendInvite(ctx, nreq)
	if err != nil {
		c.end(Event{Cause: EndError, Err: err})
		return false
	}
	*tx, *req = ntx, nreq
	return true
}

// cancel asks runUAC to CANCEL the INVITE, at once or at the first
// provisional response (RFC 3261 §9.1).
func (c *Call) cancel(ctx context.Context) {
	c.mu.Lock()
	c.cancelWanted = true
	c.mu.Unlock()
	select {
	case c.cancelNudge() <- struct{}{}:
	default:
	}
}

// sendCancel sends a CANCEL for invite (RFC 3261 §9.1): the same
// Request-URI, Call-ID, From, To, CSeq number and top Via.
func (c *Call) sendCancel(invite *sip.Request) {
	req := sip.NewRequest(sip.CANCEL, invite.Recipient)
	req.AppendHeader(sip.HeaderClone(invite.Via()))
	for _, h := range invite.GetHeaders("Route") {
		req.AppendHeader(sip.HeaderClone(h))
	}
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	req.AppendHeader(sip.HeaderClone(invite.From()))
	req.AppendHeader(sip.HeaderClone(invite.To()))
	req.AppendHeader(sip.HeaderClone(invite.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: invite.CSeq().SeqNo, MethodName: sip.CANCEL})
	req.SetBody(nil)
	req.SetTransport(invite.Transport())
	req.SetDestination(invite.Destination())
	req.Laddr = invite.Laddr
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.line.cfg.RequestTimeout)
		defer cancel()
		res, err := c.line.do(ctx, req, nil)
		if err != nil {
			c.log.Info("CANCEL failed", "err", err)
			return
		}
		c.log.Debug("CANCEL answered", "status", res.StatusCode)
	}()
}

// onProvisional handles a 1xx to our INVITE: early dialogs (one per To
// tag, RFC 3261 §13.2.2.1), PRACK for reliable ones (RFC 3262 §4), early
// media from the first SDP answer.
func (c *Call) onProvisional(invite *sip.Request, res *sip.Response) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.provisional = true
	if res.StatusCode == 100 {
		return
	}
	tag, _ := res.To().Params.Get("tag")
	var d *dialog
	if tag != "" {
		d = c.early[tag]
		if d == nil {
			d = dialogFromResponse(invite, res, c.line.cfg.Transport)
			c.early[tag] = d
		} else if ct := res.Contact(); ct != nil {
			d.target = ct.Address
		}
	}
	if d != nil && hasOption(headerValues(res, "Require"), "100rel") {
		rseq, err := parseRSeq(headerValue(res, "RSeq"))
		if err != nil {
			c.log.Info("reliable provisional without a valid RSeq", "err", err)
			return
		}
		last := c.rseq[tag]
		if last != 0 && rseq != last+1 {
			return // a retransmission, or out of order (RFC 3262 §4)
		}
		c.rseq[tag] = rseq
		prack := c.dialogRequestLocked(d, sip.PRACK, 0)
		prack.AppendHeader(sip.NewHeader("RAck", fmt.Sprintf("%d %d INVITE", rseq, invite.CSeq().SeqNo)))
		prack.SetBody(nil)
		go c.sendPrack(prack)
	}
	if isSDP(res) && c.answeredBy == "" {
		result, err := c.neg.ApplyAnswer(res.Body())
		if err != nil {
			c.log.Info("early answer refused", "err", err)
		} else {
			c.answeredBy = tag
			c.applyResultLocked(result, true)
			c.state = StateEarlyMedia
			c.emitLocked(Event{Kind: EventEarlyMedia, Code: res.StatusCode, Reason: res.Reason})
			return
		}
	}
	if c.state == StateDialing {
		c.state = StateRinging
	}
	c.emitLocked(Event{Kind: EventProgress, Code: res.StatusCode, Reason: res.Reason})
}

// sendPrack sends a PRACK (RFC 3262 §7.1), answering challenges.
func (c *Call) sendPrack(prack *sip.Request) {
	ctx, cancel := context.WithTimeout(context.Background(), c.line.cfg.RequestTimeout)
	defer cancel()
	first := true
	build := func() (*sip.Request, error) {
		if first {
			first = false
			return prack, nil
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		tag, _ := prack.To().Params.Get("tag")
		d := c.early[tag]
		if d == nil {
			d = c.dlg
		}
		if d == nil {
			return nil, ErrState
		}
		n := c.dialogRequestLocked(d, sip.PRACK, 0)
		n.AppendHeader(sip.HeaderClone(prack.GetHeader("RAck")))
		n.SetBody(nil)
		return n, nil
	}
	_, res, err := c.transact(ctx, build, nil)
	if err != nil {
		c.log.Info("PRACK failed", "err", err)
		return
	}
	if !res.IsSuccess() {
		c.log.Info("PRACK answered", "status", res.StatusCode)
	}
}

// onAnswer handles the first 2xx to our INVITE: the dialog is confirmed
// (RFC 3261 §13.2.2.4), the answer applied, the ACK sent.
func (c *Call) onAnswer(invite *sip.Request, res *sip.Response) {
	c.mu.Lock()
	tag, _ := res.To().Params.Get("tag")
	d := dialogFromResponse(invite, res, c.line.cfg.Transport)
	if e := c.early[tag]; e != nil {
		d.localSeq = max(d.localSeq, e.localSeq)
	}
	c.dlg = d
	var answerErr error
	if isSDP(res) && c.answeredBy != tag {
		if c.answeredBy != "" {
			// An answer from another fork than the early media's: make
			// the same offer outstanding again and take this answer.
			if _, err := c.neg.Offer(); err != nil {
				answerErr = err
			}
		}
		if answerErr == nil {
			result, err := c.neg.ApplyAnswer(res.Body())
			if err != nil {
				answerErr = err
			} else {
				c.answeredBy = tag
				c.applyResultLocked(result, false)
			}
		}
	} else if c.answeredBy == "" {
		answerErr = fmt.Errorf("%w: 2xx without an answer", ErrMalformed)
	}
	c.mu.Unlock()
	ack := c.ack(invite, res, nil)
	c.mu.Lock()
	c.acks[tag] = ack
	wantCancel := c.cancelWanted
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	if answerErr != nil || wantCancel {
		ev := Event{Cause: EndLocal}
		if answerErr != nil {
			c.log.Warn("answer refused", "err", answerErr)
			ev = Event{Cause: EndError, Err: answerErr}
		}
		c.bye(context.Background(), ev)
		return
	}
	c.mu.Lock()
	c.state = StateActive
	c.remoteParty.Name = d.remoteName
	c.emitLocked(Event{Kind: EventAnswered, Code: res.StatusCode, Reason: res.Reason})
	c.startSessionTimerFromResponseLocked(res)
	c.mu.Unlock()
	c.log.Info("answered", "status", res.StatusCode)
}

// extra2xx handles a 2xx after the first: a retransmission is ACKed
// again; one from another fork is ACKed and ended with BYE (RFC 3261
// §13.2.2.4).
func (c *Call) extra2xx(invite *sip.Request, res *sip.Response) {
	tag, _ := res.To().Params.Get("tag")
	c.mu.Lock()
	if ack := c.acks[tag]; ack != nil {
		c.mu.Unlock()
		if err := c.line.r.agent.Client().WriteRequest(ack); err != nil {
			c.log.Debug("ACK retransmission", "err", err)
		}
		return
	}
	if c.dlg == nil || c.dlg.remoteTag == tag {
		c.mu.Unlock()
		return // the first 2xx is still being handled
	}
	d := dialogFromResponse(invite, res, c.line.cfg.Transport)
	c.early[tag] = d
	c.mu.Unlock()
	ack := c.ack(invite, res, nil)
	c.mu.Lock()
	c.acks[tag] = ack
	bye := c.dialogRequestLocked(d, sip.BYE, 0)
	bye.SetBody(nil)
	c.mu.Unlock()
	c.log.Info("extra 2xx from another fork: ACK and BYE", "tag", tag)
	ctx, cancel := context.WithTimeout(context.Background(), c.line.cfg.RequestTimeout)
	defer cancel()
	if res, err := c.line.do(ctx, bye, nil); err != nil {
		c.log.Info("BYE to extra fork failed", "err", err)
	} else if !res.IsSuccess() {
		c.log.Info("BYE to extra fork answered", "status", res.StatusCode)
	}
}
