// Package media carries the audio of one call leg over RTP (RFC 3550) with
// the G.711 payloads of RFC 3551, DTMF as RFC 4733 telephone-events, RTCP
// reports, and SRTP/SRTCP (RFC 3711) keyed by SDP security descriptions.
//
// A Session owns a pair of UDP sockets bound from a port range (an even RTP
// port and the next one for RTCP), or a single socket when RTCP is
// multiplexed (RFC 5761). Listen binds them so that the local address can go
// into an SDP offer or answer; Apply configures the session from what the
// offer/answer settled (an sdp.Result) and may be called again for every
// re-INVITE: the remote address, direction, codec, packetisation time and
// keys change, while the SSRC, sequence numbers and timestamps run on.
//
// The line's media loop drives the session at the pace of the PCM clock:
// once every 20 ms it hands the microphone frame to WriteFrame and takes the
// earpiece frame from ReadFrame. Neither allocates. WriteFrame encodes and
// packetises at once (two packets per frame at ptime 10, two packets per
// three frames at ptime 30); ReadFrame takes the next 20 ms out of an
// adaptive jitter buffer (package jitter) that a receiving goroutine fills.
// Key presses go out with SendDigit and received ones come in on Digits.
//
// Every frame ReadFrame returns passes through the packet loss concealment
// of G.711 Appendix I (package plc): a frame that did not arrive is
// replaced by the repeated pitch periods of what came before, faded out
// over 60 ms, and merged back into the signal when packets return. It
// delays the audio by ConcealmentDelay (3.75 ms). When CN (RFC 3389) is
// negotiated, the peer's silences are filled with comfort noise at the
// level and spectrum its CN packets describe (package cng); with
// Config.VAD the session suppresses its own silences, sending CN packets
// instead of audio, and marks the first packet of each talkspurt.
//
// Received packets are checked before they touch any state: version,
// payload type, SRTP authentication, then the sequence number validation of
// RFC 3550 Appendix A.1 (probation of new sources, sequence wrap, restart
// after a large jump). RTCP sender and receiver reports go out about every
// five seconds (RFC 3550 §6.2, randomised ±50 %) with the loss and jitter
// figures of Appendix A.3 and A.8, the round-trip time is taken from the
// peer's reports (§6.4.1), and Close says BYE.
package media
