package mwi

import (
	"errors"
	"fmt"
	"time"
)

// Errors reported by this package. Subscription errors are wrapped with
// context; test them with errors.Is and errors.As.
var (
	// ErrMalformedSummary means a message-summary body could not be
	// parsed (RFC 3842 §5.2).
	ErrMalformedSummary = errors.New("mwi: malformed message summary")
	// ErrInvalidConfig means a Config lacks a required field or holds an
	// unusable value.
	ErrInvalidConfig = errors.New("mwi: invalid configuration")
	// ErrDuplicateUser means the Manager already has a subscription for
	// the Config's user: NOTIFYs are routed by user.
	ErrDuplicateUser = errors.New("mwi: user already subscribed")
	// ErrClosed means the Manager was closed.
	ErrClosed = errors.New("mwi: manager closed")
	// ErrRejected matches every final failure that is not retried: 403,
	// 404, 410, 484, 489, 603 and 604 answers, rejected credentials, and a
	// subscription the notifier terminated with reason "rejected",
	// "noresource" or "invariant".
	ErrRejected = errors.New("mwi: subscription rejected")
	// ErrForbidden matches a 403 answer.
	ErrForbidden = errors.New("mwi: subscription forbidden")
	// ErrNotFound matches a 404 answer.
	ErrNotFound = errors.New("mwi: mailbox not found")
	// ErrBadEvent matches a 489 answer: the notifier does not offer the
	// message-summary package (RFC 6665 §8.2.1).
	ErrBadEvent = errors.New("mwi: message-summary not supported by the notifier")
	// ErrAuth means a challenge could not be answered (no supported
	// Digest challenge, no password), or the credentials were rejected.
	// It also matches ErrRejected.
	ErrAuth = errors.New("mwi: authentication failed")
	// ErrNoResponse means no final response arrived: a timeout or a
	// transport failure.
	ErrNoResponse = errors.New("mwi: no response from notifier")
	// ErrTerminated means the notifier ended the subscription with a
	// NOTIFY whose Subscription-State is "terminated" (see
	// TerminatedError for the reason).
	ErrTerminated = errors.New("mwi: subscription terminated by notifier")
	// ErrTooManyRounds means one attempt needed too many requests
	// (challenges or 423 answers that did not converge).
	ErrTooManyRounds = errors.New("mwi: subscription did not converge")
)

// ResponseError is a final, unsuccessful answer to a SUBSCRIBE.
type ResponseError struct {
	// StatusCode and Reason are from the status line.
	StatusCode int
	Reason     string
	// RetryAfter is the Retry-After header's delay, or zero.
	RetryAfter time.Duration
}

func (e *ResponseError) Error() string {
	s := fmt.Sprintf("notifier answered %d %s", e.StatusCode, e.Reason)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %v)", e.RetryAfter)
	}
	return s
}

// Is makes a ResponseError match the sentinel for its status.
func (e *ResponseError) Is(target error) bool {
	switch target {
	case ErrForbidden:
		return e.StatusCode == 403
	case ErrNotFound:
		return e.StatusCode == 404
	case ErrBadEvent:
		return e.StatusCode == 489
	case ErrRejected:
		return terminalStatus(e.StatusCode)
	}
	return false
}

// terminalStatus reports whether a final status means the subscription
// cannot succeed without a change of configuration.
func terminalStatus(code int) bool {
	switch code {
	case 403, 404, 410, 484, 489, 603, 604:
		return true
	}
	return false
}

// TerminatedError is a subscription ended by the notifier (RFC 6665
// §4.1.3). It matches ErrTerminated, and ErrRejected when the reason
// forbids subscribing again.
type TerminatedError struct {
	// Reason is the reason parameter of Subscription-State, in lower
	// case; empty when absent.
	Reason string
	// RetryAfter is the retry-after parameter, or zero.
	RetryAfter time.Duration
}

func (e *TerminatedError) Error() string {
	if e.Reason == "" {
		return ErrTerminated.Error()
	}
	return fmt.Sprintf("%v (reason %s)", ErrTerminated, e.Reason)
}

// Is matches ErrTerminated, and ErrRejected for a final reason.
func (e *TerminatedError) Is(target error) bool {
	return target == ErrTerminated || (target == ErrRejected && e.final())
}

// final reports whether the reason forbids a new subscription.
func (e *TerminatedError) final() bool {
	switch e.Reason {
	case "rejected", "noresource", "invariant":
		return true
	}
	return false
}

// authError is a challenge that could not be answered.
type authError struct {
	why  string
	resp *ResponseError
}

func (e *authError) Error() string { return fmt.Sprintf("%v: %s (%v)", ErrAuth, e.why, e.resp) }

func (e *authError) Is(target error) bool { return target == ErrAuth || target == ErrRejected }

func (e *authError) Unwrap() error { return e.resp }
