package ua

import (
	"errors"
	"fmt"
	"time"
)

// Errors reported by the agent and by registrations. Registration errors
// are wrapped with context; test them with errors.Is and errors.As.
var (
	// ErrInvalidAccount means an Account lacks a required field or holds
	// an unusable value.
	ErrInvalidAccount = errors.New("ua: invalid account")
	// ErrInvalidConfig means an AgentConfig holds an unusable value.
	ErrInvalidConfig = errors.New("ua: invalid agent configuration")
	// ErrAgentClosed means the Agent was closed.
	ErrAgentClosed = errors.New("ua: agent closed")
	// ErrRejected matches every final rejection that is not retried:
	// 403, 404, 410, 484, 603 and 604 answers, and rejected credentials.
	ErrRejected = errors.New("ua: registration rejected")
	// ErrForbidden matches a 403 answer.
	ErrForbidden = errors.New("ua: registration forbidden")
	// ErrNotFound matches a 404 answer (unknown user or domain).
	ErrNotFound = errors.New("ua: user not found")
	// ErrAuthRejected means the registrar challenged again credentials
	// computed from its own fresh, non-stale challenge: wrong user name
	// or password. It also matches ErrRejected.
	ErrAuthRejected = errors.New("ua: credentials rejected")
	// ErrAuthUnsupported means the registrar offered no challenge this
	// agent can answer (scheme, algorithm or qop), or none at all. It
	// also matches ErrRejected.
	ErrAuthUnsupported = errors.New("ua: unsupported authentication challenge")
	// ErrNoResponse means no final response arrived: a timeout, or a
	// transport failure such as a refused connection or a TLS handshake
	// that failed certificate verification (errors.As finds the
	// *tls.CertificateVerificationError then).
	ErrNoResponse = errors.New("ua: no response from registrar")
	// ErrServerFailure matches 5xx answers and other answers that are
	// retried after a backoff.
	ErrServerFailure = errors.New("ua: registrar failure")
	// ErrResolve means the registrar's (or outbound proxy's) name did not
	// resolve to any address (RFC 3263). It is retried like ErrNoResponse.
	ErrResolve = errors.New("ua: registrar address not resolved")
	// ErrFlowFailed means a TCP or TLS flow to the registrar closed or
	// stopped answering keep-alives (RFC 5626 §4.4); the line registers
	// again at once.
	ErrFlowFailed = errors.New("ua: flow to registrar failed")
	// ErrTooManyRounds means a single attempt needed too many requests
	// (challenges or 423 answers that did not converge).
	ErrTooManyRounds = errors.New("ua: registration did not converge")
)

// ResponseError is a final, unsuccessful answer to a REGISTER.
type ResponseError struct {
	// StatusCode and Reason are from the status line.
	StatusCode int
	Reason     string
	// RetryAfter is the Retry-After header's delay, or zero.
	RetryAfter time.Duration
}

func (e *ResponseError) Error() string {
	s := fmt.Sprintf("registrar answered %d %s", e.StatusCode, e.Reason)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %v)", e.RetryAfter)
	}
	return s
}

// Is makes a ResponseError match the sentinel for its status class.
func (e *ResponseError) Is(target error) bool {
	switch target {
	case ErrForbidden:
		return e.StatusCode == 403
	case ErrNotFound:
		return e.StatusCode == 404
	case ErrRejected:
		return terminalStatus(e.StatusCode)
	case ErrServerFailure:
		return !terminalStatus(e.StatusCode)
	}
	return false
}

// terminalStatus reports whether a final status means the registration
// cannot succeed without a change of configuration, so it is not retried.
func terminalStatus(code int) bool {
	switch code {
	case 403, 404, 410, 484, 603, 604:
		return true
	}
	return false
}

// authError marks a rejection of, or inability to answer, a challenge.
type authError struct {
	kind error // ErrAuthRejected or ErrAuthUnsupported
	resp *ResponseError
	why  string
}

func (e *authError) Error() string {
	if e.why != "" {
		return fmt.Sprintf("%v: %s (%v)", e.kind, e.why, e.resp)
	}
	return fmt.Sprintf("%v (%v)", e.kind, e.resp)
}

func (e *authError) Is(target error) bool {
	return target == e.kind || target == ErrRejected
}

func (e *authError) Unwrap() error { return e.resp }
