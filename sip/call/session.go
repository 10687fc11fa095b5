package call

import (
	"context"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Session timers (RFC 4028). The refresher of a session sends a
// re-INVITE or UPDATE every half interval; the other side ends the
// session with BYE when no refresh came by the interval less a third
// (at most 32 s). "refresher=uac" names the client of the transaction
// that carried the header, so whether we refresh depends on the side we
// took in the last refresh.

// checkRefreshLocked checks a refresh request's Session-Expires against
// our Min-SE (RFC 4028 §8.1); a request too short is answered 422.
func (c *Call) checkRefreshLocked(req *sip.Request) (int, bool) {
	v := headerValue(req, "Session-Expires")
	if v == "" || c.line.cfg.SessionExpires <= 0 {
		return 0, true
	}
	se, err := parseSessionExpires(v)
	if err != nil {
		return 400, false
	}
	if se.Interval < c.line.cfg.MinSE {
		return 422, false
	}
	return 0, true
}

// sessionHeadersLocked puts Session-Expires (and Require: timer when
// the peer refreshes) into our 2xx to an INVITE or UPDATE, and records
// who refreshes (RFC 4028 §9).
func (c *Call) sessionHeadersLocked(req *sip.Request, res *sip.Response) {
	if c.line.cfg.SessionExpires <= 0 {
		return
	}
	supports := hasOption(headerValues(req, "Supported"), "timer") || hasOption(headerValues(req, "Require"), "timer")
	se := sessionExpires{Interval: c.line.cfg.SessionExpires, Refresher: "uas"}
	if v := headerValue(req, "Session-Expires"); v != "" {
		if asked, err := parseSessionExpires(v); err == nil {
			se.Interval = asked.Interval
			if minSE, err := parseMinSE(headerValue(req, "Min-SE")); err == nil && minSE > se.Interval {
				se.Interval = minSE
			}
			switch {
			case asked.Refresher != "":
				se.Refresher = asked.Refresher
			case supports:
				se.Refresher = "uac"
			}
		}
	} else if req.IsInvite() && c.sessionInterval > 0 {
		se.Interval = c.sessionInterval
	}
	if !supports {
		se.Refresher = "uas"
	}
	c.sessionInterval = se.Interval
	c.weRefresh = se.Refresher == "uas"
	res.AppendHeader(sip.NewHeader("Session-Expires", se.String()))
	if se.Refresher == "uac" {
		res.AppendHeader(sip.NewHeader("Require", "timer"))
	}
}

// sessionRequestHeadersLocked returns the Session-Expires and Min-SE of
// a refresh request we send, keeping our role as refresher or not.
func (c *Call) sessionRequestHeadersLocked() []sip.Header {
	if c.line.cfg.SessionExpires <= 0 || c.sessionInterval <= 0 {
		return nil
	}
	se := sessionExpires{Interval: c.sessionInterval, Refresher: "uas"}
	if c.weRefresh {
		se.Refresher = "uac"
	}
	return []sip.Header{
		sip.NewHeader("Session-Expires", se.String()),
		sip.NewHeader("Min-SE", strconv.Itoa(int(c.line.cfg.MinSE/time.Second))),
		sip.NewHeader("Supported", supportedExtensions),
	}
}

// startSessionTimerFromResponseLocked takes the Session-Expires of a 2xx
// to our INVITE or UPDATE (RFC 4028 §7.2): none means no session timer.
func (c *Call) startSessionTimerFromResponseLocked(res *sip.Response) {
	v := headerValue(res, "Session-Expires")
	if v == "" || c.line.cfg.SessionExpires <= 0 {
		c.sessionInterval = 0
		c.stopSessionTimerLocked()
		return
	}
	se, err := parseSessionExpires(v)
	if err != nil || se.Interval < time.Second {
		c.sessionInterval = 0
		c.stopSessionTimerLocked()
		return
	}
	c.sessionInterval = se.Interval
	c.weRefresh = se.Refresher != "uas"
	c.startSessionTimerLocked()
}

func (c *Call) stopSessionTimerLocked() {
	c.sessionGen++
	if c.sessionTimer != nil {
		c.sessionTimer.Stop()
		c.sessionTimer = nil
	}
}

// startSessionTimerLocked (re)starts the session timer for the
// negotiated interval and role.
func (c *Call) startSessionTimerLocked() {
	c.stopSessionTimerLocked()
	if c.ended || c.sessionInterval <= 0 {
		return
	}
	gen := c.sessionGen
	iv := c.sessionInterval
	if c.weRefresh {
		c.sessionTimer = time.AfterFunc(iv/2, func() { c.refreshSession(gen) })
		return
	}
	c.sessionTimer = time.AfterFunc(iv-min(32*time.Second, iv/3), func() { c.sessionExpired(gen) })
}

// sessionExpired ends a session the peer failed to refresh (RFC 4028
// §10).
func (c *Call) sessionExpired(gen int) {
	c.mu.Lock()
	stale := gen != c.sessionGen || c.ended
	c.mu.Unlock()
	if stale {
		return
	}
	c.log.Info("session expired without refresh")
	c.bye(context.Background(), Event{Cause: EndTimeout, Reason: "session expired"})
}

// refreshSession sends our refresh: UPDATE without a body when the peer
// allows UPDATE, else a re-INVITE with our unchanged offer (RFC 4028
// §7.4, §9).
func (c *Call) refreshSession(gen int) {
	c.mu.Lock()
	if gen != c.sessionGen || c.ended || c.state != StateActive {
		c.mu.Unlock()
		return
	}
	useUpdate := c.dlg != nil && hasOption(c.dlg.allow, "UPDATE")
	busy := c.offering || c.srv != nil
	if busy {
		// Try again shortly: another exchange is under way.
		c.sessionTimer = time.AfterFunc(time.Second, func() { c.refreshSession(gen) })
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), c.line.cfg.RequestTimeout)
	defer cancel()
	if !useUpdate {
		err := c.reoffer(ctx, func() {}, func() {})
		if err != nil {
			c.log.Info("session refresh by re-INVITE failed", "err", err)
			c.mu.Lock()
			if gen == c.sessionGen && !c.ended {
				c.weRefresh = false // let the expiry rule end it
				c.startSessionTimerLocked()
			}
			c.mu.Unlock()
		}
		return
	}
	c.mu.Lock()
	hdrs := c.sessionRequestHeadersLocked()
	c.mu.Unlock()
	res, err := c.request(ctx, sip.UPDATE, hdrs, nil)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil || !res.IsSuccess() {
		c.log.Info("session refresh by UPDATE failed", "err", err)
		if res != nil && res.StatusCode == 422 {
			if minSE, err := parseMinSE(headerValue(res, "Min-SE")); err == nil && minSE > c.sessionInterval {
				c.sessionInterval = minSE
				g := c.sessionGen
				c.sessionTimer = time.AfterFunc(0, func() { c.refreshSession(g) })
				return
			}
		}
		if !c.ended {
			c.weRefresh = false
			c.startSessionTimerLocked()
		}
		return
	}
	c.startSessionTimerFromResponseLocked(res)
}
