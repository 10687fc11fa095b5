package digitmap

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by Parse and ParseWithDefaults
// wraps exactly one of them, so callers can test with errors.Is and still
// show the user the positioned message.
var (
	// ErrSyntax reports a malformed map: an unclosed bracket, a character
	// that has no meaning where it stands, an empty alternative.
	ErrSyntax = errors.New("digitmap: syntax error")

	// ErrUnsupported reports dial-plan syntax that SPA devices accept but
	// this package does not implement, such as ',' (second dial tone) or
	// 'P' (hot and warm lines).
	ErrUnsupported = errors.New("digitmap: unsupported syntax")

	// ErrTooLarge reports a map beyond one of the package limits
	// (MaxMapLen, MaxAlternatives, MaxElements, MaxReplacement, MaxTimer).
	ErrTooLarge = errors.New("digitmap: over a limit")

	// ErrTimer reports a default timer given to ParseWithDefaults that is
	// negative or longer than MaxTimer.
	ErrTimer = errors.New("digitmap: invalid timer")
)

// SyntaxError is a parse error at a position in the map text.
type SyntaxError struct {
	Pos int    // 1-based byte position in the map text
	Msg string // what is wrong there, e.g. "unclosed '<'"
	Err error  // ErrSyntax, ErrUnsupported or ErrTooLarge
}

// Error formats the error as "digitmap: position 14: unclosed '<'".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("digitmap: position %d: %s", e.Pos, e.Msg)
}

// Unwrap returns the sentinel error.
func (e *SyntaxError) Unwrap() error { return e.Err }
