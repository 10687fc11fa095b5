package syslog

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// ReadFrame reads one message framed by octet counting, as the TCP
// transport sends it (RFC 6587 §3.4.1: MSG-LEN SP SYSLOG-MSG, MSG-LEN a
// decimal without leading zero). It is the receiving side, for tests and
// tools that check what a sender writes; a frame longer than max is an
// error.
func ReadFrame(r *bufio.Reader, max int) (string, error) {
	head, err := r.ReadString(' ')
	if err != nil {
		return "", err
	}
	digits := head[:len(head)-1]
	n, err := strconv.Atoi(digits)
	if err != nil || n <= 0 || digits[0] == '0' || len(digits) > 10 {
		return "", fmt.Errorf("syslog: bad MSG-LEN %q", digits)
	}
	if n > max {
		return "", fmt.Errorf("syslog: frame of %d octets, more than %d", n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b), nil
}
