// Package mwi is Tipring's message-waiting indication client: it keeps
// one subscription per line to the message-summary event package of RFC
// 3842 (over RFC 6665 SUBSCRIBE/NOTIFY) and tells the line controller
// whether the mailbox holds new messages, so that the phone can show its
// lamp or hear a stutter dial tone.
//
// A [Manager] belongs to one [ua.Agent]: it installs the agent's single
// NOTIFY handler for "message-summary" and hands each NOTIFY to the
// [Subscription] it is for — by dialog (Call-ID and our tag) for NOTIFYs
// of a subscription, and by the Request-URI user for the unsolicited
// NOTIFYs that Asterisk and many PBXes send to a registered contact
// without any subscription. Several lines share one Manager.
//
// A Subscription sends SUBSCRIBE for the line's own address of record,
// answers digest challenges (401 and 407) with package digest, refreshes
// before the subscription expires, subscribes again after failures with
// capped exponential backoff and jitter, or at once when the notifier
// ends the subscription for a reason that invites it (RFC 6665 §4.1.3),
// and stops for good on 403, 404, 489 and on the reasons "rejected",
// "noresource" and "invariant". Stop removes the subscription with an
// Expires: 0 SUBSCRIBE. Its [State] is what a status page shows and its
// Summaries channel carries each new [Summary] to the line controller.
//
// [ParseSummary] reads application/simple-message-summary bodies (RFC
// 3842 §5.2) leniently: header names in any case, extra white space,
// CRLF, LF or CR line ends and unknown lines are accepted; a body without a
// valid Messages-Waiting line, or with a count that is not a number, is
// refused with an error matching [ErrMalformedSummary].
package mwi
