package line

import (
	"context"
	"errors"
	"time"

	"github.com/tipring/tipring/hal"
	"github.com/tipring/tipring/sip/call"
	"github.com/tipring/tipring/sip/media"
)

// Call is what a line needs of one call, whether it crosses the network
// (a SIP dialog, see SIPNetwork) or stays on the gateway (a local call
// between two ports, see Exchange). Its events are those of package call;
// the line reads them from Events until EventEnded.
type Call interface {
	// ID identifies the call in logs.
	ID() string
	Direction() call.Direction
	// Remote is the other party, as caller ID should present it.
	Remote() call.Party
	Events() <-chan call.Event
	// Ring tells the caller the phone rings (incoming calls).
	Ring() error
	Answer(ctx context.Context) error
	// Reject refuses an incoming call with a final response code.
	Reject(code int) error
	// Redirect sends an incoming call elsewhere (302 Moved Temporarily).
	Redirect(target string) error
	Hangup(ctx context.Context) error
	Hold(ctx context.Context) error
	Resume(ctx context.Context) error
	// SendDTMF sends a digit out of band in a SIP INFO.
	SendDTMF(ctx context.Context, digit rune, d time.Duration) error
	// Transfer asks the far end to call target (blind transfer);
	// TransferTo to replace other's far end (attended transfer).
	Transfer(ctx context.Context, target string) error
	TransferTo(ctx context.Context, other Call) error
	// PassThrough re-offers the call as voiceband data (fax or modem in
	// G.711); a call with nothing to renegotiate does nothing.
	PassThrough(ctx context.Context) error
	// AcceptReferral places the call an EventReferral asks for.
	AcceptReferral(ctx context.Context, r *call.Referral) (Call, error)
	// Ringing names the ring cadence an incoming call asks for (from
	// Alert-Info), empty for the country's.
	Ringing() string
	// Replaces is the ID of the call of this line an incoming call is to
	// replace (RFC 3891, the end of an attended transfer), or "".
	Replaces() string
	// Media is the call's audio, nil until it has any.
	Media() Media
}

// Media is the audio of one call as the line's media loop drives it: one
// 20 ms frame each way per PCM period.
type Media interface {
	WriteFrame(f *hal.Frame) error
	ReadFrame(f *hal.Frame) error
}

// DigitMedia is a Media that carries key presses as RFC 4733 events.
type DigitMedia interface {
	Media
	SendDigit(digit byte, down bool) error
	Digits() <-chan media.Digit
}

// PassThroughMedia is a Media that can carry voiceband data: a fixed
// jitter buffer, no silence suppression.
type PassThroughMedia interface {
	Media
	SetPassThrough(on bool)
}

// StatsMedia is a Media that reports RTP statistics.
type StatsMedia interface {
	Media
	Stats() media.Stats
	Codec() string
}

// Network places calls to numbers beyond the gateway and offers the calls
// that arrive for the line.
type Network interface {
	Dial(ctx context.Context, number string) (Call, error)
	Incoming() <-chan Call
}

// ErrNotSupported is returned by call operations a kind of call cannot
// carry, such as a REFER transfer of a local call.
var ErrNotSupported = errors.New("line: not supported by this call")

// ErrNoNetwork means a number was dialed on a line without a SIP account.
var ErrNoNetwork = errors.New("line: the line has no SIP account")
