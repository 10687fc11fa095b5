// Package call is the call side of Tipring's SIP agent: INVITE dialogs
// (RFC 3261 §12–§15) for the lines of a [ua.Agent].
//
// A [Router] attaches to the agent's sipgo server and hands each request
// to the line its Request-URI names, or to the call whose dialog it
// belongs to. A [Line] (one per account) places calls with [Line.Dial] and
// offers incoming ones on [Line.Incoming]; the line's call-control
// goroutine drives each [Call] through its methods (Ring, Answer, Reject,
// Hangup, Hold, Resume, Transfer, TransferTo) and learns what the far end
// does from [Call.Events]. [NewRTPMediaFactory] makes each call's media a
// [github.com/tipring/tipring/sip/media.Session] ([RTPMedia]); with
// [Config.Registration] set, the Contact of our requests and responses is
// the address the registration bound.
//
// What is implemented, by specification:
//
//   - RFC 3261: outgoing and incoming INVITE with digest authentication
//     (401 and 407, through [github.com/tipring/tipring/sip/digest]),
//     CANCEL before answer and the 487 that follows, ACK, BYE, 2xx
//     retransmission until the ACK and BYE when none comes (§13.3.1.4),
//     re-INVITE with 491 glare resolution (§14.1), in-dialog OPTIONS, and
//     forked answers: every extra 2xx is acknowledged and ended with BYE
//     (§13.2.2.4).
//   - RFC 3264 offer/answer through [sdp.Negotiator]: the media side is a
//     [Media] the line supplies, started with the negotiated [sdp.Result]
//     on early media (183 with SDP) or answer and updated on every
//     re-negotiation, including hold and resume (sendonly, inactive) in
//     both directions.
//   - RFC 3262 reliable provisional responses: PRACK as UAC, and
//     reliable 180 with retransmission as UAS when the caller requires it.
//   - RFC 3311 UPDATE, answered with or without SDP, and used for session
//     refreshes when the peer allows it.
//   - RFC 4028 session timers as UAC and UAS: Session-Expires and Min-SE,
//     422 handling, refreshes, and BYE when a session expires.
//   - RFC 3515 REFER with NOTIFY progress (message/sipfrag), blind and
//     attended with Replaces (RFC 3891), in both directions.
//   - RFC 3325 P-Asserted-Identity and RFC 3323 Privacy for the calling
//     party, Alert-Info for distinctive ringing, and DTMF in SIP INFO
//     (application/dtmf-relay).
package call
