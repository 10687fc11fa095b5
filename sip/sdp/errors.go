package sdp

import "errors"

// Errors of the parser. A body that fails to parse should be answered with
// 400 (Bad Request).
var (
	// ErrSyntax means a line is not of the form <letter>=<value> or a line
	// the negotiation needs (o=, c=, m=) is malformed. The error says which
	// line.
	ErrSyntax = errors.New("sdp: syntax error")
	// ErrEmpty means the body has no SDP lines at all.
	ErrEmpty = errors.New("sdp: empty session description")
	// ErrTooLarge means the body exceeds MaxSize.
	ErrTooLarge = errors.New("sdp: session description too large")
)

// Errors of the answerer. An offer that fails with an error wrapping
// ErrNotAcceptable should be answered with 488 (Not Acceptable Here); the
// second wrapped error says why.
var (
	// ErrNotAcceptable means the offer is well formed but we cannot accept
	// any audio stream in it.
	ErrNotAcceptable = errors.New("sdp: offer not acceptable")
	// ErrNoAudio means the offer has no audio stream with a port.
	ErrNoAudio = errors.New("sdp: no audio stream")
	// ErrNoCommonCodec means no codec of the stream is one we use.
	ErrNoCommonCodec = errors.New("sdp: no common codec")
	// ErrTransport means the stream's transport protocol is not RTP/AVP,
	// RTP/SAVP or their AVPF variants, or the stream has no usable
	// connection address.
	ErrTransport = errors.New("sdp: unsupported transport")
	// ErrSRTPRequired means our policy requires SRTP and the stream
	// carries no crypto attribute we can use.
	ErrSRTPRequired = errors.New("sdp: SRTP required but not offered")
	// ErrSRTPDisabled means the stream requires SRTP (RTP/SAVP) and our
	// policy has SRTP off.
	ErrSRTPDisabled = errors.New("sdp: SRTP offered but disabled")
	// ErrNoUsableCrypto means an RTP/SAVP stream has no crypto attribute
	// we can use.
	ErrNoUsableCrypto = errors.New("sdp: no usable crypto attribute")
)

// Errors of the offerer, for answers that break RFC 3264 §6 or do not fit
// our offer. The caller ends the dialog (ACK then BYE for an INVITE).
var (
	// ErrNoOffer means ApplyAnswer was called with no offer outstanding.
	ErrNoOffer = errors.New("sdp: no offer outstanding")
	// ErrBadAnswer is wrapped by every answer-side error below.
	ErrBadAnswer = errors.New("sdp: invalid answer")
	// ErrMediaCount means the answer does not have one m= line per
	// offered m= line.
	ErrMediaCount = errors.New("sdp: answer m= lines do not match the offer")
	// ErrMediaRejected means the answer rejected (port 0) our audio stream.
	ErrMediaRejected = errors.New("sdp: audio stream rejected")
	// ErrCodecNotOffered means the answer uses a codec we did not offer, or
	// none at all.
	ErrCodecNotOffered = errors.New("sdp: answer codec not in offer")
	// ErrCryptoMismatch means the answer's crypto attribute is not one of
	// ours, is unusable, or is missing where our offer required SRTP.
	ErrCryptoMismatch = errors.New("sdp: answer crypto does not match the offer")
)

// ErrConfig means a Config or local address is invalid.
var ErrConfig = errors.New("sdp: invalid configuration")
