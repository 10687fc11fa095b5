package sdp

// Direction is a stream's direction attribute (RFC 3264 §5.1), always from
// the point of view of the side whose description carries it.
type Direction uint8

// The four directions, built from two bits: send and receive.
const (
	Inactive Direction = 0
	SendOnly Direction = 1
	RecvOnly Direction = 2
	SendRecv Direction = SendOnly | RecvOnly
)

// ParseDirection maps an attribute name to a Direction.
func ParseDirection(s string) (Direction, bool) {
	switch s {
	case "sendrecv":
		return SendRecv, true
	case "sendonly":
		return SendOnly, true
	case "recvonly":
		return RecvOnly, true
	case "inactive":
		return Inactive, true
	}
	return 0, false
}

// String returns the attribute name.
func (d Direction) String() string {
	switch d & SendRecv {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	}
	return "inactive"
}

// Sends reports whether the side may send media.
func (d Direction) Sends() bool { return d&SendOnly != 0 }

// Receives reports whether the side wants to receive media.
func (d Direction) Receives() bool { return d&RecvOnly != 0 }

// Reverse returns the same stream seen from the other side: sendonly
// becomes recvonly and the other way round.
func (d Direction) Reverse() Direction {
	var r Direction
	if d.Sends() {
		r |= RecvOnly
	}
	if d.Receives() {
		r |= SendOnly
	}
	return r
}

// Hold is our own hold state, which decides the direction we offer and the
// most we accept in an answer (RFC 3264 §8.4).
type Hold uint8

// Hold states.
const (
	// NotHeld: we send and receive (a=sendrecv).
	NotHeld Hold = iota
	// HoldSendOnly: we put the peer on hold and may still send, for
	// example music or a tone (a=sendonly).
	HoldSendOnly
	// HoldInactive: we put the peer on hold and neither send nor receive
	// (a=inactive).
	HoldInactive
)

// direction is the most this side does in the hold state.
func (h Hold) direction() Direction {
	switch h {
	case HoldSendOnly:
		return SendOnly
	case HoldInactive:
		return Inactive
	}
	return SendRecv
}
