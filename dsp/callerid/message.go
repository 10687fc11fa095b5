package callerid

import (
	"fmt"
	"time"
)

// MessageType is the first octet of a data link message.
type MessageType byte

// Message types of GR-30-CORE and EN 300 659-3. SDMF types carry a fixed
// body; MDMF types (high bit set) carry type-length-value parameters.
const (
	TypeSDMFCallSetup      MessageType = 0x04 // SDMF calling number delivery: MMDDHHMM + number, 'O' or 'P'
	TypeSDMFMessageWaiting MessageType = 0x06 // SDMF VMWI: 42 42 42 on, 6F 6F 6F off
	TypeCallSetup          MessageType = 0x80 // MDMF call set-up
	TypeMessageWaiting     MessageType = 0x82 // MDMF message waiting indicator
	TypeAdviceOfCharge     MessageType = 0x86 // EN 300 659-3 advice of charge
	TypeShortMessage       MessageType = 0x89 // EN 300 659-3 short message service
)

// IsMDMF reports whether messages of type t carry parameters.
func (t MessageType) IsMDMF() bool { return t&0x80 != 0 }

// Known reports whether t is one of the message types this package names.
func (t MessageType) Known() bool {
	switch t {
	case TypeSDMFCallSetup, TypeSDMFMessageWaiting, TypeCallSetup, TypeMessageWaiting,
		TypeAdviceOfCharge, TypeShortMessage:
		return true
	}
	return false
}

// String names the message type for errors and logs.
func (t MessageType) String() string {
	switch t {
	case TypeSDMFCallSetup:
		return "SDMF call setup"
	case TypeSDMFMessageWaiting:
		return "SDMF message waiting"
	case TypeCallSetup:
		return "MDMF call setup"
	case TypeMessageWaiting:
		return "MDMF message waiting"
	case TypeAdviceOfCharge:
		return "advice of charge"
	case TypeShortMessage:
		return "short message"
	}
	return fmt.Sprintf("type 0x%02X", byte(t))
}

// ParamType is the first octet of an MDMF parameter.
type ParamType byte

// Parameter types of GR-30-CORE and EN 300 659-3 that this package maps to
// fields. Others travel in Message.Extra.
const (
	ParamDateTime          ParamType = 0x01 // MMDDHHMM, 8 ASCII digits
	ParamNumber            ParamType = 0x02 // calling line identity
	ParamCalledNumber      ParamType = 0x03 // called line identity (EN 300 659-3)
	ParamNumberAbsence     ParamType = 0x04 // reason for absence of the number: 'O' or 'P'
	ParamName              ParamType = 0x07 // calling party name
	ParamNameAbsence       ParamType = 0x08 // reason for absence of the name: 'O' or 'P'
	ParamVisualIndicator   ParamType = 0x0B // message waiting: 0xFF on, 0x00 off
	ParamCallType          ParamType = 0x11 // call type (EN 300 659-3)
	ParamFirstCalledNumber ParamType = 0x12 // first called line identity, for forwarded calls
	ParamMessageCount      ParamType = 0x13 // number of messages waiting, binary
	ParamForwardedCallType ParamType = 0x15 // type of forwarded call
	ParamCallingUserType   ParamType = 0x16 // type of calling user
	ParamRedirectingNumber ParamType = 0x1A // redirecting number
	ParamOperatorExtension ParamType = 0xE0 // extension for network operator use
)

// Absence says why a number or name is not delivered.
type Absence byte

// Reasons for absence, as GR-30 and EN 300 659-3 code them. The zero value
// means the field is not absent (or no reason was given).
const (
	Unavailable Absence = 'O' // out of area, unavailable
	Private     Absence = 'P' // withheld by the caller
)

// String returns "unavailable", "private", or "" for the zero value.
func (a Absence) String() string {
	switch a {
	case 0:
		return ""
	case Unavailable:
		return "unavailable"
	case Private:
		return "private"
	}
	return fmt.Sprintf("absence(%q)", rune(a))
}

func (a Absence) valid() bool { return a == Unavailable || a == Private }

// CallType is the EN 300 659-3 call type parameter.
type CallType byte

// Call types of EN 300 659-3; zero means the parameter is not sent.
const (
	CallVoice          CallType = 0x01 // normal voice call
	CallRingBack       CallType = 0x02 // ring back when free
	CallNameDelivery   CallType = 0x03 // calling name delivery
	CallMessageWaiting CallType = 0x81 // message waiting call
)

// Info is what a call set-up message says about a call.
type Info struct {
	// Time holds month, day, hour and minute only; its year is 0 on
	// decode. The zero Time means the date and time were not sent.
	Time time.Time
	// Number is the calling line identity; NumberAbsence the reason when
	// there is none. At most one of the two is set.
	Number        string
	NumberAbsence Absence
	// Name is the calling party's name; NameAbsence the reason when there
	// is none.
	Name        string
	NameAbsence Absence
	// The remaining fields are EN 300 659-3 parameters; zero means not sent.
	CalledNumber      string   // called line identity
	FirstCalledNumber string   // first called line of a forwarded call
	RedirectingNumber string   // last redirecting party
	CallType          CallType // call type
}

// Waiting is what a message-waiting message says.
type Waiting struct {
	Active   bool // the indicator is to be lit
	Count    int  // number of messages (EN 300 659-3), when HasCount
	HasCount bool
}

// Param is one raw MDMF parameter.
type Param struct {
	Type  ParamType
	Value []byte
}

// Message is one data link message.
type Message struct {
	Type    MessageType
	Info    Info    // call set-up fields; date/time and number may also come with message waiting
	Waiting Waiting // message-waiting types only
	// Extra holds MDMF parameters that have no field above, in order. On
	// encode they follow the mapped parameters.
	Extra []Param
}

// NewCallSetup returns an MDMF call set-up message for info.
func NewCallSetup(info Info) Message { return Message{Type: TypeCallSetup, Info: info} }

// NewMessageWaiting returns an MDMF message-waiting message.
func NewMessageWaiting(active bool) Message {
	return Message{Type: TypeMessageWaiting, Waiting: Waiting{Active: active}}
}

// Checksum returns the octet that makes the sum of b and it zero modulo
// 256: the two's complement of the sum, as GR-30 and EN 300 659-3 define
// the message checksum.
func Checksum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return -s
}

// AppendFrame appends a message of type t with the given body to dst:
// type, length, body, checksum.
func AppendFrame(dst []byte, t MessageType, body []byte) ([]byte, error) {
	if len(body) > 255 {
		return dst, fmt.Errorf("%w: body of %d octets", ErrTooLong, len(body))
	}
	start := len(dst)
	dst = append(dst, byte(t), byte(len(body)))
	dst = append(dst, body...)
	return append(dst, Checksum(dst[start:])), nil
}

// ParseFrame reads one message from the start of b. It returns its type,
// its body (aliasing b) and how many octets it took, checksum included.
func ParseFrame(b []byte) (t MessageType, body []byte, n int, err error) {
	if len(b) < 2 {
		return 0, nil, 0, fmt.Errorf("%w: %d octets, want type and length", ErrTruncated, len(b))
	}
	l := int(b[1])
	if len(b) < 3+l {
		return 0, nil, 0, fmt.Errorf("%w: length %d needs %d octets, have %d", ErrTruncated, l, 3+l, len(b))
	}
	if c := Checksum(b[:2+l]); c != b[2+l] {
		return 0, nil, 0, fmt.Errorf("%w: 0x%02X, want 0x%02X", ErrChecksum, b[2+l], c)
	}
	return MessageType(b[0]), b[2 : 2+l], 3 + l, nil
}

// ParseParams splits an MDMF body into its parameters (aliasing body).
func ParseParams(body []byte) ([]Param, error) {
	var ps []Param
	for i := 0; i < len(body); {
		if i+2 > len(body) {
			return nil, fmt.Errorf("%w: parameter 0x%02X at offset %d has no length", ErrLengthOverflow, body[i], i)
		}
		l := int(body[i+1])
		if i+2+l > len(body) {
			return nil, fmt.Errorf("%w: parameter 0x%02X at offset %d claims %d octets, %d left",
				ErrLengthOverflow, body[i], i, l, len(body)-i-2)
		}
		ps = append(ps, Param{Type: ParamType(body[i]), Value: body[i+2 : i+2+l]})
		i += 2 + l
	}
	return ps, nil
}

// AppendParams appends params to dst in the MDMF coding.
func AppendParams(dst []byte, params ...Param) ([]byte, error) {
	for _, p := range params {
		if len(p.Value) > 255 {
			return dst, fmt.Errorf("%w: parameter 0x%02X of %d octets", ErrTooLong, byte(p.Type), len(p.Value))
		}
		dst = append(dst, byte(p.Type), byte(len(p.Value)))
		dst = append(dst, p.Value...)
	}
	return dst, nil
}

// Parse reads one message from the start of b and returns it with the
// number of octets it took.
func Parse(b []byte) (Message, int, error) {
	t, body, n, err := ParseFrame(b)
	if err != nil {
		return Message{}, 0, err
	}
	m := Message{Type: t}
	switch {
	case t == TypeSDMFCallSetup:
		err = m.parseSDMFCallSetup(body)
	case t == TypeSDMFMessageWaiting:
		err = m.parseSDMFWaiting(body)
	case t.IsMDMF():
		err = m.parseMDMF(body)
	default:
		err = fmt.Errorf("%w: 0x%02X", ErrUnknownType, byte(t))
	}
	if err != nil {
		return Message{}, 0, fmt.Errorf("%v: %w", t, err)
	}
	return m, n, nil
}

// UnmarshalBinary decodes exactly one message: type, length, body and
// checksum, with nothing after it.
func (m *Message) UnmarshalBinary(b []byte) error {
	msg, n, err := Parse(b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("%w: %d octets", ErrTrailingData, len(b)-n)
	}
	*m = msg
	return nil
}

// MarshalBinary encodes m with its length and checksum.
func (m Message) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// AppendBinary appends the encoding of m to dst. MDMF parameters go in the
// order date and time, number (or reason), name (or reason), called number,
// first called number, redirecting number, call type, the message-waiting
// parameters, then Extra.
func (m Message) AppendBinary(dst []byte) ([]byte, error) {
	var body []byte
	var err error
	switch {
	case m.Type == TypeSDMFCallSetup:
		body, err = m.sdmfCallSetupBody()
	case m.Type == TypeSDMFMessageWaiting:
		c := byte(0x6F)
		if m.Waiting.Active {
			c = 0x42
		}
		body = []byte{c, c, c}
	case m.Type.IsMDMF():
		body, err = m.mdmfBody()
	default:
		err = fmt.Errorf("%w: 0x%02X", ErrUnknownType, byte(m.Type))
	}
	if err != nil {
		return dst, fmt.Errorf("%v: %w", m.Type, err)
	}
	return AppendFrame(dst, m.Type, body)
}

func (m *Message) sdmfCallSetupBody() ([]byte, error) {
	i := &m.Info
	if i.Time.IsZero() {
		return nil, fmt.Errorf("%w: SDMF needs the date and time", ErrMissing)
	}
	if i.Name != "" || i.NameAbsence != 0 || i.CalledNumber != "" || i.FirstCalledNumber != "" ||
		i.RedirectingNumber != "" || i.CallType != 0 || len(m.Extra) > 0 {
		return nil, fmt.Errorf("%w: SDMF carries only date, time and number", ErrBadValue)
	}
	body := appendDateTime(make([]byte, 0, 32), i.Time)
	switch {
	case i.Number != "" && i.NumberAbsence != 0:
		return nil, fmt.Errorf("%w: number", ErrConflict)
	case i.Number != "":
		if err := checkText(i.Number); err != nil {
			return nil, fmt.Errorf("number: %w", err)
		}
		if i.Number == "O" || i.Number == "P" {
			return nil, fmt.Errorf("%w: SDMF number %q reads as a reason for absence", ErrBadValue, i.Number)
		}
		body = append(body, i.Number...)
	case i.NumberAbsence.valid():
		body = append(body, byte(i.NumberAbsence))
	case i.NumberAbsence != 0:
		return nil, fmt.Errorf("%w: %q", ErrBadAbsence, rune(i.NumberAbsence))
	default:
		return nil, fmt.Errorf("%w: SDMF needs a number or a reason for its absence", ErrMissing)
	}
	if len(body) > 255 {
		return nil, fmt.Errorf("%w: body of %d octets", ErrTooLong, len(body))
	}
	return body, nil
}

func (m *Message) mdmfBody() ([]byte, error) {
	i := &m.Info
	var ps []Param
	if !i.Time.IsZero() {
		ps = append(ps, Param{ParamDateTime, appendDateTime(nil, i.Time)})
	}
	add := func(t ParamType, what, s string, a Absence, at ParamType) error {
		switch {
		case s != "" && a != 0:
			return fmt.Errorf("%w: %s", ErrConflict, what)
		case s != "":
			if err := checkText(s); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			ps = append(ps, Param{t, []byte(s)})
		case a != 0:
			if !a.valid() {
				return fmt.Errorf("%w: %s: %q", ErrBadAbsence, what, rune(a))
			}
			ps = append(ps, Param{at, []byte{byte(a)}})
		}
		return nil
	}
	if err := add(ParamNumber, "number", i.Number, i.NumberAbsence, ParamNumberAbsence); err != nil {
		return nil, err
	}
	if err := add(ParamName, "name", i.Name, i.NameAbsence, ParamNameAbsence); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		t    ParamType
		what string
		s    string
	}{
		{ParamCalledNumber, "called number", i.CalledNumber},
		{ParamFirstCalledNumber, "first called number", i.FirstCalledNumber},
		{ParamRedirectingNumber, "redirecting number", i.RedirectingNumber},
	} {
		if err := add(f.t, f.what, f.s, 0, 0); err != nil {
			return nil, err
		}
	}
	if i.CallType != 0 {
		ps = append(ps, Param{ParamCallType, []byte{byte(i.CallType)}})
	}
	if m.Type == TypeMessageWaiting {
		v := byte(0x00)
		if m.Waiting.Active {
			v = 0xFF
		}
		ps = append(ps, Param{ParamVisualIndicator, []byte{v}})
	} else if m.Waiting.Active {
		return nil, fmt.Errorf("%w: indicator in a %v message", ErrBadValue, m.Type)
	}
	if m.Waiting.HasCount {
		if m.Waiting.Count < 0 || m.Waiting.Count > 255 {
			return nil, fmt.Errorf("%w: message count %d", ErrBadValue, m.Waiting.Count)
		}
		ps = append(ps, Param{ParamMessageCount, []byte{byte(m.Waiting.Count)}})
	}
	for _, p := range m.Extra {
		if mapped(p.Type) {
			return nil, fmt.Errorf("%w: parameter 0x%02X belongs in a field, not in Extra", ErrBadValue, byte(p.Type))
		}
	}
	ps = append(ps, m.Extra...)
	seen := map[ParamType]bool{}
	for _, p := range ps {
		if seen[p.Type] && mapped(p.Type) {
			return nil, fmt.Errorf("%w: 0x%02X", ErrDuplicate, byte(p.Type))
		}
		seen[p.Type] = true
	}
	body, err := AppendParams(nil, ps...)
	if err != nil {
		return nil, err
	}
	if len(body) > 255 {
		return nil, fmt.Errorf("%w: body of %d octets", ErrTooLong, len(body))
	}
	return body, nil
}

// mapped reports whether parameters of type t decode into a field rather
// than into Extra.
func mapped(t ParamType) bool {
	switch t {
	case ParamDateTime, ParamNumber, ParamCalledNumber, ParamNumberAbsence, ParamName,
		ParamNameAbsence, ParamVisualIndicator, ParamCallType, ParamFirstCalledNumber,
		ParamMessageCount, ParamRedirectingNumber:
		return true
	}
	return false
}

func (m *Message) parseSDMFCallSetup(body []byte) error {
	if len(body) < 9 {
		return fmt.Errorf("%w: SDMF body of %d octets, want date, time and number", ErrTruncated, len(body))
	}
	t, err := parseDateTime(body[:8])
	if err != nil {
		return err
	}
	m.Info.Time = t
	rest := body[8:]
	if len(rest) == 1 && (rest[0] == 'O' || rest[0] == 'P') {
		m.Info.NumberAbsence = Absence(rest[0])
		return nil
	}
	if err := checkText(string(rest)); err != nil {
		return fmt.Errorf("number: %w", err)
	}
	m.Info.Number = string(rest)
	return nil
}

func (m *Message) parseSDMFWaiting(body []byte) error {
	if len(body) != 3 || body[0] != body[1] || body[1] != body[2] || (body[0] != 0x42 && body[0] != 0x6F) {
		return fmt.Errorf("%w: SDMF indicator % X, want 42 42 42 or 6F 6F 6F", ErrBadValue, body)
	}
	m.Waiting.Active = body[0] == 0x42
	return nil
}

func (m *Message) parseMDMF(body []byte) error {
	ps, err := ParseParams(body)
	if err != nil {
		return err
	}
	seen := map[ParamType]bool{}
	var indicator bool
	i := &m.Info
	for _, p := range ps {
		if mapped(p.Type) {
			if seen[p.Type] {
				return fmt.Errorf("%w: 0x%02X", ErrDuplicate, byte(p.Type))
			}
			seen[p.Type] = true
		}
		v := p.Value
		switch p.Type {
		case ParamDateTime:
			if i.Time, err = parseDateTime(v); err != nil {
				return err
			}
		case ParamNumber, ParamName, ParamCalledNumber, ParamFirstCalledNumber, ParamRedirectingNumber:
			if len(v) == 0 {
				return fmt.Errorf("%w: empty parameter 0x%02X", ErrBadValue, byte(p.Type))
			}
			if err := checkText(string(v)); err != nil {
				return fmt.Errorf("parameter 0x%02X: %w", byte(p.Type), err)
			}
			s := string(v)
			switch p.Type {
			case ParamNumber:
				i.Number = s
			case ParamName:
				i.Name = s
			case ParamCalledNumber:
				i.CalledNumber = s
			case ParamFirstCalledNumber:
				i.FirstCalledNumber = s
			default:
				i.RedirectingNumber = s
			}
		case ParamNumberAbsence, ParamNameAbsence:
			if len(v) != 1 || !Absence(v[0]).valid() {
				return fmt.Errorf("%w: parameter 0x%02X % X", ErrBadAbsence, byte(p.Type), v)
			}
			if p.Type == ParamNumberAbsence {
				i.NumberAbsence = Absence(v[0])
			} else {
				i.NameAbsence = Absence(v[0])
			}
		case ParamCallType:
			if len(v) != 1 || v[0] == 0 {
				return fmt.Errorf("%w: call type % X", ErrBadValue, v)
			}
			i.CallType = CallType(v[0])
		case ParamVisualIndicator:
			if len(v) != 1 || (v[0] != 0x00 && v[0] != 0xFF) {
				return fmt.Errorf("%w: visual indicator % X, want 00 or FF", ErrBadValue, v)
			}
			m.Waiting.Active = v[0] == 0xFF
			indicator = true
		case ParamMessageCount:
			if len(v) != 1 {
				return fmt.Errorf("%w: message count % X", ErrBadValue, v)
			}
			m.Waiting.Count, m.Waiting.HasCount = int(v[0]), true
		default:
			m.Extra = append(m.Extra, Param{p.Type, append([]byte(nil), v...)})
		}
	}
	switch {
	case i.Number != "" && i.NumberAbsence != 0:
		return fmt.Errorf("%w: number", ErrConflict)
	case i.Name != "" && i.NameAbsence != 0:
		return fmt.Errorf("%w: name", ErrConflict)
	case m.Type == TypeMessageWaiting && !indicator:
		return fmt.Errorf("%w: message waiting without visual indicator", ErrMissing)
	case m.Type != TypeMessageWaiting && indicator:
		return fmt.Errorf("%w: visual indicator in a %v message", ErrBadValue, m.Type)
	}
	return nil
}

// checkText accepts the printable ASCII characters (0x20 to 0x7E) that
// numbers and names are made of.
func checkText(s string) error {
	for k := 0; k < len(s); k++ {
		if c := s[k]; c < 0x20 || c > 0x7E {
			return fmt.Errorf("%w: 0x%02X at %d", ErrBadText, c, k)
		}
	}
	if len(s) > 255 {
		return fmt.Errorf("%w: %d characters", ErrTooLong, len(s))
	}
	return nil
}

func appendDateTime(dst []byte, t time.Time) []byte {
	return fmt.Appendf(dst, "%02d%02d%02d%02d", int(t.Month()), t.Day(), t.Hour(), t.Minute())
}

// parseDateTime reads MMDDHHMM strictly: digits only, a real calendar day
// (29 February included), hours 00–23, minutes 00–59.
func parseDateTime(b []byte) (time.Time, error) {
	if len(b) != 8 {
		return time.Time{}, fmt.Errorf("%w: %d octets, want 8", ErrBadDateTime, len(b))
	}
	var v [4]int
	for k := range v {
		hi, lo := b[2*k], b[2*k+1]
		if hi < '0' || hi > '9' || lo < '0' || lo > '9' {
			return time.Time{}, fmt.Errorf("%w: %q is not MMDDHHMM", ErrBadDateTime, b)
		}
		v[k] = int(hi-'0')*10 + int(lo-'0')
	}
	mo, day, hh, mm := v[0], v[1], v[2], v[3]
	// Year 0 is a leap year in the proleptic Gregorian calendar, so every
	// valid month and day survives the round trip through time.Date.
	if mo < 1 || mo > 12 || day < 1 || hh > 23 || mm > 59 ||
		day > time.Date(0, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return time.Time{}, fmt.Errorf("%w: %q", ErrBadDateTime, b)
	}
	return time.Date(0, time.Month(mo), day, hh, mm, 0, 0, time.UTC), nil
}
