// Package sip is the root of Tipring's SIP agent, built on
// github.com/emiago/sipgo. Each phone port is one SIP line registered with
// the user's server, over TLS by default.
//
// The work is split into sub-packages:
//
//   - [github.com/tipring/tipring/sip/ua]: the agent shared by all lines
//     (transports, listeners, RFC 5626 keep-alive flows, RFC 3263 SRV
//     resolution) and per-line registration (RFC 3261 §10) with digest
//     authentication, refresh, backoff, failover to a backup registrar,
//     outbound proxy, rport/received (RFC 3581) and un-registration.
//   - [github.com/tipring/tipring/sip/digest]: HTTP Digest responses for
//     SIP (RFC 2617, RFC 7616, RFC 8760).
//   - [github.com/tipring/tipring/sip/sdp]: SDP offer/answer (RFC 3264)
//     with a parser tolerant of what real peers send.
//   - [github.com/tipring/tipring/sip/sdes]: SRTP keying in SDP (RFC 4568),
//     with MKI, feeding pion/srtp.
//   - [github.com/tipring/tipring/sip/media]: the RTP session of one call
//     leg (RFC 3550, RFC 4733, SRTP).
//   - [github.com/tipring/tipring/sip/call]: INVITE dialogs for the lines
//     of an agent, with [github.com/tipring/tipring/sip/call.RTPMedia]
//     carrying their audio in a media session.
//
// Tests run against real peers that this project did not write: a Kamailio
// registrar and proxy started on loopback by sip/siptest/kamailiotest,
// with certificates from sip/siptest/testca, baresip and SIPp.
package sip
