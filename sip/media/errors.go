package media

import "errors"

// Errors returned by this package.
var (
	// ErrConfig reports an unusable Config.
	ErrConfig = errors.New("media: invalid configuration")
	// ErrNoPort reports that no free port pair was found in the range.
	ErrNoPort = errors.New("media: no free media port")
	// ErrResult reports an sdp.Result the session cannot carry out.
	ErrResult = errors.New("media: unusable negotiation result")
	// ErrCrypto reports SRTP keys that do not make a context.
	ErrCrypto = errors.New("media: SRTP setup failed")
	// ErrClosed reports a call on a closed session.
	ErrClosed = errors.New("media: session closed")
	// ErrNotStarted reports a call that needs Apply first.
	ErrNotStarted = errors.New("media: session not configured")
	// ErrNoDTMF reports a digit when no telephone-event was negotiated.
	ErrNoDTMF = errors.New("media: telephone-event not negotiated")
	// ErrDigit reports a digit release that does not match the press.
	ErrDigit = errors.New("media: digit out of sequence")
)

// Reasons a received packet is dropped. They are counted in Stats and
// returned by the packet handlers so that tests can check each rule.
var (
	errShort     = errors.New("media: packet too short")
	errVersion   = errors.New("media: not RTP version 2")
	errPayload   = errors.New("media: unknown payload type")
	errLoop      = errors.New("media: packet carries our own SSRC")
	errAuth      = errors.New("media: SRTP authentication failed")
	errPadding   = errors.New("media: bad padding")
	errSequence  = errors.New("media: sequence number not valid (probation or jump)")
	errNotReady  = errors.New("media: session not configured")
	errRTCP      = errors.New("media: malformed RTCP")
	errDirection = errors.New("media: receiving not negotiated")
)
