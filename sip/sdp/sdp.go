// Package sdp implements the Session Description Protocol (RFC 4566) as far
// as an analog telephone adapter needs it, and the offer/answer model of
// RFC 3264 for its single audio stream.
//
// Parse reads what real peers send, forgiving the usual deviations (bare LF
// line ends, trailing white space, missing t=, lines out of order, unknown
// attributes); Session.Marshal writes strictly in RFC 4566 order with CRLF.
//
// A Negotiator holds one dialog's media state. The SIP agent calls Offer to
// get a body for an INVITE or re-INVITE and ApplyAnswer on the answer, or
// Answer on an incoming offer; each successful exchange yields a Result
// with the codec, payload types, packetisation time, remote addresses,
// direction and SRTP keys the RTP layer needs:
//
//	n, err := sdp.NewNegotiator(sdp.Config{SRTP: sdp.SRTPOptional}, localRTP, nil)
//	offer, err := n.Offer()          // body of the INVITE
//	res, err := n.ApplyAnswer(body)  // body of the 200 OK
//
//	answer, res, err := n.Answer(body) // an incoming INVITE's offer
//	if errors.Is(err, sdp.ErrNotAcceptable) { /* reply 488 */ }
//
// Hold and resume are re-offers after SetHold (RFC 3264 §8.4); a peer's
// hold, including the old c=0.0.0.0 form, shows in Result.Direction and
// Result.RemoteHold. SRTP keys travel in a=crypto lines (RFC 4568, package
// sdes) under the policy in Config.SRTP.
//
// Only PCMU and PCMA at 8000 Hz carry audio, with telephone-event (RFC
// 4733) for digits and, when Config.ComfortNoise is set, CN (RFC 3389)
// for the background noise of silences. Video, T.38 fax (m=image) and any
// other stream are answered with port 0.
package sdp
