package call

import (
	"errors"
	"fmt"
)

// Errors reported by lines and calls; test them with errors.Is.
var (
	// ErrInvalidConfig means a Config lacks a required field or holds an
	// unusable value.
	ErrInvalidConfig = errors.New("call: invalid line configuration")
	// ErrLineExists means a line with the same user is already attached
	// to the router.
	ErrLineExists = errors.New("call: line already attached")
	// ErrClosed means the line or router was closed.
	ErrClosed = errors.New("call: line closed")
	// ErrEnded means the call has ended.
	ErrEnded = errors.New("call: call has ended")
	// ErrState means the operation does not fit the call's state, such
	// as answering an outgoing call or holding one not yet answered.
	ErrState = errors.New("call: operation not allowed in this call state")
	// ErrBusy means a request could not be sent because another
	// transaction of the same kind is in progress in the dialog.
	ErrBusy = errors.New("call: another request is in progress")
	// ErrNoResponse means a request got no final response: timeout or
	// transport failure.
	ErrNoResponse = errors.New("call: no response")
	// ErrRejected matches every *StatusError: a final non-2xx response.
	ErrRejected = errors.New("call: request rejected")
	// ErrAuth means a challenge could not be answered, or our answer was
	// challenged again.
	ErrAuth = errors.New("call: authentication failed")
	// ErrGlare means a re-INVITE kept meeting the peer's (491) after the
	// RFC 3261 §14.1 retries.
	ErrGlare = errors.New("call: request glare not resolved")
	// ErrMalformed means a header or body of the peer's could not be
	// parsed.
	ErrMalformed = errors.New("call: malformed header or body")
	// ErrNotHandled means a referral was already accepted or rejected.
	ErrNotHandled = errors.New("call: referral already handled")
)

// StatusError is a final non-2xx response to a request we sent.
type StatusError struct {
	// Method is the request's method.
	Method string
	// Code and Reason are from the status line.
	Code   int
	Reason string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("call: %s answered %d %s", e.Method, e.Code, e.Reason)
}

// Is makes every StatusError match ErrRejected.
func (e *StatusError) Is(target error) bool { return target == ErrRejected }
