// Package sip is the root of Tipring's SIP agent, built on
// github.com/emiago/sipgo. Each phone port is one SIP line registered with
// the user's server, over TLS by default.
//
// The work is split into sub-packages:
//
//   - [github.com/tipring/tipring/sip/ua]: the agent shared by all lines
//     (transports, listeners) and per-line registration (RFC 3261 §10)
//     with digest authentication, refresh, backoff and un-registration.
//   - [github.com/tipring/tipring/sip/digest]: HTTP Digest responses for
//     SIP (RFC 2617, RFC 7616, RFC 8760).
//   - sip/sdp and sip/sdes: session descriptions and SRTP keying.
//
// Tests run against real peers that this project did not write: a Kamailio
// registrar started on loopback by sip/internal/kamailiotest, with
// certificates from sip/internal/testca.
package sip
