package ua

import (
	"time"

	"github.com/tipring/tipring/sip/internal/retry"
)

// Retry and refresh timing follow package retry (RFC 5626 §4.5 backoff,
// refresh ahead of expiry). A Retry-After header in the answer replaces the
// backoff, capped at maxRetryAfter.
const (
	defaultRetryBase = retry.DefaultBase
	defaultRetryMax  = retry.DefaultMax
	maxRetryAfter    = time.Hour
)
