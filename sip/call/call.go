package call

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tipring/tipring/sip/sdp"
)

// Direction tells who placed a call.
type Direction int

// Call directions.
const (
	Outgoing Direction = iota
	Incoming
)

func (d Direction) String() string {
	if d == Incoming {
		return "incoming"
	}
	return "outgoing"
}

// State is where a call stands.
type State int

// Call states.
const (
	// StateDialing: our INVITE is out and nothing but 100 came back.
	StateDialing State = iota
	// StateOffered: an incoming call not yet ringing.
	StateOffered
	// StateRinging: the far end rings (180), or we ring for an incoming
	// call.
	StateRinging
	// StateEarlyMedia: the far end sends early media (183 with SDP).
	StateEarlyMedia
	// StateAnswering: we sent 200 to an incoming call and await its ACK.
	StateAnswering
	// StateActive: the dialog is confirmed.
	StateActive
	// StateEnded: the call is over.
	StateEnded
)

func (s State) String() string {
	switch s {
	case StateDialing:
		return "dialing"
	case StateOffered:
		return "offered"
	case StateRinging:
		return "ringing"
	case StateEarlyMedia:
		return "early-media"
	case StateAnswering:
		return "answering"
	case StateActive:
		return "active"
	case StateEnded:
		return "ended"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// EventKind says what an Event reports.
type EventKind int

// Kinds of events.
const (
	// EventProgress: a provisional response (Code 180, 181, 182, 183)
	// without media.
	EventProgress EventKind = iota
	// EventEarlyMedia: early media started (a provisional response with
	// SDP); Code is that response's.
	EventEarlyMedia
	// EventAnswered: the call is up (outgoing: 200 received; incoming:
	// our 200 acknowledged).
	EventAnswered
	// EventHeld: the far end put us on hold.
	EventHeld
	// EventResumed: the far end took us off hold.
	EventResumed
	// EventMediaChanged: a re-negotiation changed the media otherwise
	// (a new address or codec, or our own hold and resume).
	EventMediaChanged
	// EventDTMF: a digit arrived in a SIP INFO; Digit and Duration.
	EventDTMF
	// EventTransferProgress: a NOTIFY reported the progress of our REFER
	// (RFC 3515 §2.4.5); Code and Reason are from its sipfrag, Final
	// tells that the transfer is over.
	EventTransferProgress
	// EventReferral: the far end asks us to call someone (an incoming
	// REFER); see Referral.
	EventReferral
	// EventEnded: the call is over; Cause, Code and Reason say why. It
	// is the last event: the channel is closed after it.
	EventEnded
)

func (k EventKind) String() string {
	names := [...]string{"progress", "early-media", "answered", "held", "resumed", "media-changed", "dtmf", "transfer-progress", "referral", "ended"}
	if int(k) < len(names) {
		return names[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// EndCause says why a call ended.
type EndCause int

// End causes.
const (
	// EndLocal: we hung up (BYE or CANCEL sent, or an incoming call
	// rejected).
	EndLocal EndCause = iota
	// EndRemote: the far end hung up (BYE).
	EndRemote
	// EndRejected: the far end refused our call with a final response;
	// Code and Reason hold it.
	EndRejected
	// EndCancelled: the caller cancelled an incoming call before answer
	// (CANCEL), or our CANCEL took effect.
	EndCancelled
	// EndReplaced: another call took this one's place (RFC 3891).
	EndReplaced
	// EndTimeout: no response to our INVITE, no ACK to our 200, no
	// PRACK to a reliable provisional, or the session expired (RFC
	// 4028).
	EndTimeout
	// EndError: a transport or protocol failure; Err says what.
	EndError
)

func (c EndCause) String() string {
	names := [...]string{"local", "remote", "rejected", "cancelled", "replaced", "timeout", "error"}
	if int(c) < len(names) {
		return names[c]
	}
	return "EndCause(" + strconv.Itoa(int(c)) + ")"
}

// Event is something that happened to a call.
type Event struct {
	Kind EventKind
	// Code and Reason: the response behind a progress, answer or end
	// event, or a transfer's sipfrag status.
	Code   int
	Reason string
	// Cause is why the call ended (EventEnded).
	Cause EndCause
	// Err is the failure behind EndError, if any.
	Err error
	// Digit and Duration describe an EventDTMF.
	Digit    rune
	Duration time.Duration
	// Final marks the last EventTransferProgress.
	Final bool
	// Target is, when a call ends with a redirection (3xx), the first
	// Contact of the response: where the caller may call instead (RFC 3261
	// §8.1.3.4). The line decides whether to follow it.
	Target string
	// Referral is the request of an EventReferral.
	Referral *Referral
}

// eventBuffer is how many events a call holds for a slow reader before
// it drops them (EventEnded is never dropped: the channel closes).
const eventBuffer = 64

// dialog is the state of one dialog (RFC 3261 §12), from our side.
type dialog struct {
	callID              string
	localTag, remoteTag string
	local, remote       sip.Uri
	localName           string
	remoteName          string
	localSeq, remoteSeq uint32
	target              sip.Uri   // the peer's Contact
	routes              []sip.Uri // the route set, in the order to use
	transport           string    // "udp", "tcp" or "tls"
	// allow lists the methods the peer said it allows, when it said.
	allow []string
}

// Call is one call on a line: an INVITE dialog, its offer/answer state and
// its media. Its methods are safe for concurrent use; the line's
// call-control goroutine normally drives it and reads its Events.
type Call struct {
	line     *Line
	log      *slog.Logger
	dir      Direction
	callID   string
	localTag string

	events chan Event
	done   chan struct{}

	mu          sync.Mutex
	state       State
	ended       bool
	dlg         *dialog
	early       map[string]*dialog // UAC early dialogs by remote tag
	neg         *sdp.Negotiator
	media       Media
	mediaOn     bool
	remoteHeld  bool
	localHold   sdp.Hold
	remoteParty Party
	alert       []AlertInfo
	replaces    *Call
	auth        *authState

	// Outgoing call set-up.
	invite       *sip.Request // the INVITE in flight
	provisional  bool         // a provisional response came
	cancelWanted bool
	answeredBy   string                  // remote tag of the dialog whose answer we applied
	acks         map[string]*sip.Request // ACK per answered dialog, for 2xx retransmissions
	rseq         map[string]uint32       // last RSeq PRACKed per early dialog
	setupHeaders []sip.Header            // extra INVITE headers (Replaces, Referred-By)
	setupDone    chan struct{}           // closed when the INVITE got its final response
	hook         func(Event)             // reports set-up events to a referral
	held         int                     // requests being handled: events wait (holdEvents)
	deferred     []Event                 // events waiting for a response to go out
	nudge        chan struct{}           // wakes runUAC for a CANCEL

	// Incoming call set-up and server INVITEs in the dialog.
	srv       *serverInvite
	rel       *reliable1xx
	initial   *serverInvite
	final     chan struct{} // closed once the initial INVITE has its final response
	finalOnce sync.Once
	answer    []byte          // our SDP answer to the initial INVITE's offer
	reqSE     *sessionExpires // the initial INVITE's Session-Expires

	// Re-negotiation.
	offering bool // our re-INVITE or UPDATE with an offer is in progress

	// Session timer (RFC 4028).
	sessionInterval time.Duration
	weRefresh       bool
	sessionTimer    *time.Timer
	sessionGen      int

	// Outgoing REFER subscription.
	referring bool
}

// serverInvite is an INVITE we answer: the initial one or a re-INVITE.
type serverInvite struct {
	req       *sip.Request
	tx        sip.ServerTransaction
	res       *sip.Response // our 2xx, retransmitted until the ACK
	acked     chan struct{}
	ackOnce   sync.Once
	offerless bool // our 2xx carries the offer; the answer comes in the ACK
}

// reliable1xx is a reliable provisional response of ours awaiting PRACK
// (RFC 3262 §3).
type reliable1xx struct {
	rseq    uint32
	cseq    uint32
	res     *sip.Response
	pracked chan struct{}
	once    sync.Once
}

// ID returns the call's Call-ID.
func (c *Call) ID() string { return c.callID }

// Direction tells whether the call is incoming or outgoing.
func (c *Call) Direction() Direction { return c.dir }

// Line returns the line the call belongs to.
func (c *Call) Line() *Line { return c.line }

// State returns the call's current state.
func (c *Call) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Remote returns the other party: for an incoming call the caller, from
// P-Asserted-Identity or From, with Privacy honoured; for an outgoing
// call the party dialed.
func (c *Call) Remote() Party {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remoteParty
}

// AlertInfo returns the Alert-Info values of an incoming call, for a
// distinctive ring; nil when there were none.
func (c *Call) AlertInfo() []AlertInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.alert
}

// Replaces returns the call an incoming call asks to replace (an INVITE
// with Replaces, RFC 3891), or nil. Answering the new call ends the old
// one with EndReplaced.
func (c *Call) Replaces() *Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.replaces
}

// Media returns the call's media session.
func (c *Call) Media() Media { return c.media }

// Result returns the outcome of the last offer/answer exchange, nil before
// the first.
func (c *Call) Result() *sdp.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.neg.Result()
}

// RemoteHold reports whether the far end has put us on hold.
func (c *Call) RemoteHold() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remoteHeld
}

// Events returns the call's events, closed after EventEnded. Read it
// promptly: a call drops events a full buffer cannot take.
func (c *Call) Events() <-chan Event { return c.events }

// Done is closed when the call has ended.
func (c *Call) Done() <-chan struct{} { return c.done }

// emitLocked queues an event; c.mu is held. While a request of the far
// end's is being handled the event waits for the handler's response to
// go out (see holdEvents).
func (c *Call) emitLocked(ev Event) {
	if c.ended {
		return
	}
	if c.hook != nil {
		c.hook(ev)
		if ev.Kind == EventAnswered {
			c.hook = nil
		}
	}
	if c.held > 0 {
		c.deferred = append(c.deferred, ev)
		return
	}
	c.sendLocked(ev)
}

func (c *Call) sendLocked(ev Event) {
	select {
	case c.events <- ev:
	default:
		c.log.Warn("call event dropped: reader too slow", "event", ev.Kind.String())
	}
}

// holdEvents starts handling a request from the far end: the events it
// causes reach the controller only when releaseEvents runs, after the
// handler has sent its response. A controller that reacts to an event —
// hangs up on a transfer's final NOTIFY, say — can then never get its own
// request onto the wire ahead of the response the far end is waiting for.
// Handlers call it first and defer releaseEvents.
func (c *Call) holdEvents() {
	c.mu.Lock()
	c.held++
	c.mu.Unlock()
}

func (c *Call) releaseEvents() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held--
	if c.held > 0 {
		return
	}
	if !c.ended {
		for _, ev := range c.deferred {
			c.sendLocked(ev)
		}
	}
	c.deferred = nil
}

func (c *Call) emit(ev Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.emitLocked(ev)
}

// end finishes the call once: stops its timers, reports EventEnded, closes
// the media and forgets the dialog. It sends nothing.
func (c *Call) end(ev Event) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	ev.Kind = EventEnded
	for _, d := range c.deferred { // what the call reported before it ended
		c.sendLocked(d)
	}
	c.deferred = nil
	if c.hook != nil {
		c.hook(ev)
		c.hook = nil
	}
	select {
	case c.events <- ev:
	default:
		// Make room: the end matters more than what the reader missed.
		select {
		case <-c.events:
		default:
		}
		c.events <- ev
	}
	c.ended = true
	c.state = StateEnded
	if c.sessionTimer != nil {
		c.sessionTimer.Stop()
	}
	close(c.events)
	close(c.done)
	media := c.media
	c.mu.Unlock()
	c.log.Info("call ended", "cause", ev.Cause.String(), "status", ev.Code, "reason", ev.Reason)
	c.finalOnce.Do(func() { close(c.final) })
	if media != nil {
		if err := media.Close(); err != nil {
			c.log.Warn("media close", "err", err)
		}
	}
	c.line.r.removeCall(c)
	c.line.removeCall(c)
}

// applyResult hands a negotiated result to the media and reports hold
// changes; c.mu is held.
func (c *Call) applyResultLocked(res *sdp.Result, early bool) {
	if res == nil {
		return
	}
	if !c.mediaOn {
		if err := c.media.Start(res); err != nil {
			c.log.Warn("media start", "err", err)
		}
		c.mediaOn = true
	} else if err := c.media.Update(res); err != nil {
		c.log.Warn("media update", "err", err)
	}
	if early {
		return
	}
	switch {
	case res.RemoteHold && !c.remoteHeld:
		c.remoteHeld = true
		c.emitLocked(Event{Kind: EventHeld})
	case !res.RemoteHold && c.remoteHeld:
		c.remoteHeld = false
		c.emitLocked(Event{Kind: EventResumed})
	}
}

// remoteTagOf returns the confirmed dialog's remote tag, or "".
func (c *Call) remoteTagOf() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dlg == nil {
		return ""
	}
	return c.dlg.remoteTag
}

// Hangup ends the call: CANCEL before an answer (RFC 3261 §9), 480 to an
// incoming call not yet answered, BYE once answered (§15). It returns when
// the call has ended or ctx is done.
func (c *Call) Hangup(ctx context.Context) error {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return nil
	}
	dir, state := c.dir, c.state
	c.mu.Unlock()
	switch {
	case dir == Incoming && (state == StateOffered || state == StateRinging):
		return c.Reject(480)
	case dir == Outgoing && (state == StateDialing || state == StateRinging || state == StateEarlyMedia):
		c.cancel(ctx)
	default:
		c.bye(ctx, Event{Cause: EndLocal})
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("call: hangup %s: %w", c.callID, ctx.Err())
	}
}

// bye sends BYE in the confirmed dialog (or the dialog being answered)
// and ends the call with ev whatever the answer.
func (c *Call) bye(ctx context.Context, ev Event) {
	c.mu.Lock()
	hasDialog := c.dlg != nil && !c.ended
	c.mu.Unlock()
	if hasDialog {
		ctx, cancel := context.WithTimeout(ctx, c.line.cfg.RequestTimeout)
		res, err := c.request(ctx, sip.BYE, nil, nil)
		cancel()
		if err != nil {
			c.log.Info("BYE failed", "err", err)
		} else if !res.IsSuccess() {
			c.log.Info("BYE answered", "status", res.StatusCode)
		}
	}
	c.end(ev)
}
