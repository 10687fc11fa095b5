package sdp

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/tipring/tipring/sip/sdes"
)

// Result is what an offer/answer exchange settled for the audio stream:
// everything the RTP layer needs.
type Result struct {
	// Codec is the codec both sides use.
	Codec Codec
	// PayloadType is the payload type for the codec in packets we send;
	// RecvPayloadType in packets we receive. They differ only when an
	// answerer renumbered our offer, which RFC 3264 §6.1 discourages.
	PayloadType, RecvPayloadType uint8
	// DTMF is true when RFC 4733 events were negotiated, with
	// DTMFPayloadType to send and RecvDTMFPayloadType to receive.
	DTMF                                 bool
	DTMFPayloadType, RecvDTMFPayloadType uint8
	// DTMFEvents is the event list both sides support, such as "0-15".
	DTMFEvents string
	// ComfortNoise is true when CN (RFC 3389) was negotiated, with
	// CNPayloadType to send and RecvCNPayloadType to receive (13, the
	// static type, unless an offer mapped CN/8000 to a dynamic one).
	ComfortNoise                     bool
	CNPayloadType, RecvCNPayloadType uint8
	// Ptime is the packetisation time in milliseconds we send with.
	Ptime int
	// Remote is where we send RTP; RemoteRTCP where we send RTCP (the same
	// address with RTCP multiplexing, RFC 3605 a=rtcp when given, else the
	// next port).
	Remote, RemoteRTCP netip.AddrPort
	// RTCPMux is true when RTP and RTCP share one port (RFC 5761).
	RTCPMux bool
	// Direction is what we may do: send when Direction.Sends(), and expect
	// media when Direction.Receives().
	Direction Direction
	// RemoteHold is true when the peer does not want our media: it
	// declared sendonly or inactive, or used the RFC 2543 address 0.0.0.0.
	RemoteHold bool
	// LocalCrypto protects what we send and RemoteCrypto unprotects what we
	// receive; both are nil for plain RTP.
	LocalCrypto, RemoteCrypto *sdes.Crypto
}

// SameSRTP reports whether r uses the same SRTP keys as prev. When it does,
// the RTP layer must keep its SRTP contexts, rollover counters included,
// across the re-negotiation (RFC 4568 §7.1.4): rebuilding them under an
// unchanged key would repeat keystream.
func (r *Result) SameSRTP(prev *Result) bool {
	if prev == nil {
		return false
	}
	same := func(a, b *sdes.Crypto) bool {
		return a == nil && b == nil || a != nil && b != nil && a.String() == b.String()
	}
	return same(r.LocalCrypto, prev.LocalCrypto) && same(r.RemoteCrypto, prev.RemoteCrypto)
}

// Negotiator runs RFC 3264 offer/answer for the audio of one SIP dialog.
// It keeps our origin (RFC 3264 §8: one session id, a version that grows
// by one whenever what we send changes), our SRTP keys for the dialog, the
// m= lines of the last exchange, and the offer awaiting an answer. It is
// not safe for concurrent use; the line's goroutine owns it.
type Negotiator struct {
	cfg     Config
	rnd     io.Reader
	local   netip.AddrPort
	hold    Hold
	sessID  uint64
	version uint64
	last    []byte
	keys    map[sdes.Suite]sdes.Key
	slots   []slot
	pending *pendingOffer
	result  *Result
	// passThrough: offers are for voiceband data (SetPassThrough)
	passThrough bool
}

// SetPassThrough makes the next offers ask for voiceband data (a fax or
// modem call in G.711, ITU-T V.152 without its VBD attributes, which few
// peers know): the codec in use alone, no telephone-events and no comfort
// noise, and silence suppression off (RFC 3108 a=silenceSupp).
func (n *Negotiator) SetPassThrough(on bool) { n.passThrough = on }

// slot is one m= line of the last completed exchange. RFC 3264 §8 requires
// a re-offer to keep every one, in order; those we do not use stay at port
// 0.
type slot struct {
	audio   bool
	typ     string
	proto   string
	formats []string
}

// pendingOffer is an offer we sent and the state to judge its answer.
type pendingOffer struct {
	media   []*Media
	audio   int
	cryptos []sdes.Crypto
	dir     Direction
}

// NewNegotiator returns a Negotiator for one dialog whose RTP socket is
// bound at local. rnd supplies the session id and SRTP keys; nil means
// crypto/rand.
func NewNegotiator(cfg Config, local netip.AddrPort, rnd io.Reader) (*Negotiator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkLocal(local); err != nil {
		return nil, err
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	var id [8]byte
	if _, err := io.ReadFull(rnd, id[:]); err != nil {
		return nil, fmt.Errorf("sdp: session id: %w", err)
	}
	// Keep the id within 62 bits so that peers parsing it as a signed
	// 64-bit number, and adding to it, do not overflow.
	sessID := binary.BigEndian.Uint64(id[:])>>2 | 1
	return &Negotiator{
		cfg:     cfg,
		rnd:     rnd,
		local:   netip.AddrPortFrom(local.Addr().Unmap(), local.Port()),
		sessID:  sessID,
		version: 1,
		keys:    make(map[sdes.Suite]sdes.Key, 2),
	}, nil
}

// SetHold sets our hold state; it takes effect in the next Offer or Answer.
// To put the peer on hold or resume, set it and send a re-offer.
func (n *Negotiator) SetHold(h Hold) { n.hold = h }

// SetLocal moves our RTP address; it takes effect in the next Offer or
// Answer.
func (n *Negotiator) SetLocal(local netip.AddrPort) error {
	if err := checkLocal(local); err != nil {
		return err
	}
	n.local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	return nil
}

// Result returns the outcome of the last successful exchange, nil before
// the first.
func (n *Negotiator) Result() *Result { return n.result }

// CancelOffer forgets the outstanding offer, for when the request that
// carried it failed (a 488 or 491 to a re-INVITE): the previous result
// stays in force (RFC 3264 §8).
func (n *Negotiator) CancelOffer() { n.pending = nil }

// Offer builds an offer (RFC 3264 §5): the initial one, or a re-offer in an
// established dialog that keeps every earlier m= line (§8) and carries our
// hold state. It stays outstanding until ApplyAnswer or CancelOffer.
func (n *Negotiator) Offer() ([]byte, error) {
	s := n.newSession()
	slots := n.slots
	if len(slots) == 0 {
		slots = []slot{{audio: true}}
	}
	p := &pendingOffer{audio: -1, dir: n.hold.direction()}
	for i, sl := range slots {
		if sl.audio && p.audio < 0 {
			m, cryptos, err := n.offerAudio()
			if err != nil {
				return nil, err
			}
			s.Media = append(s.Media, m)
			p.audio, p.cryptos = i, cryptos
			continue
		}
		s.Media = append(s.Media, &Media{Type: sl.typ, Proto: sl.proto, Formats: slices.Clone(sl.formats)})
	}
	p.media = s.Media
	body := n.finish(s)
	n.pending = p
	return body, nil
}

func (n *Negotiator) offerAudio() (*Media, []sdes.Crypto, error) {
	m := &Media{Type: "audio", Port: int(n.local.Port()), Proto: "RTP/AVP"}
	if n.cfg.SRTP == SRTPRequired {
		m.Proto = "RTP/SAVP"
	}
	codecs := n.cfg.Codecs
	if n.passThrough {
		codecs = codecs[:1]
		if n.result != nil {
			codecs = []Codec{n.result.Codec}
		}
	}
	for _, c := range codecs {
		pt := strconv.Itoa(int(c))
		m.Formats = append(m.Formats, pt)
		m.Attributes = append(m.Attributes, Attribute{"rtpmap", pt + " " + c.Name() + "/8000"})
	}
	if n.passThrough {
		m.Attributes = append(m.Attributes, Attribute{"silenceSupp", "off - - - -"})
	}
	if n.cfg.ComfortNoise && !n.passThrough {
		pt := strconv.Itoa(ComfortNoisePayloadType)
		m.Formats = append(m.Formats, pt)
		m.Attributes = append(m.Attributes, Attribute{"rtpmap", pt + " " + comfortNoise + "/8000"})
	}
	if n.cfg.DTMF == DTMFRFC4733 && !n.passThrough {
		pt := strconv.Itoa(int(n.cfg.DTMFPayloadType))
		m.Formats = append(m.Formats, pt)
		m.Attributes = append(m.Attributes,
			Attribute{"rtpmap", pt + " " + telephoneEvent + "/8000"},
			Attribute{"fmtp", pt + " " + ourEvents()})
	}
	m.Attributes = append(m.Attributes, Attribute{"ptime", strconv.Itoa(n.cfg.Ptime)})
	var cryptos []sdes.Crypto
	if n.cfg.SRTP != SRTPOff {
		for i, suite := range sdes.SupportedSuites() {
			key, err := n.key(suite)
			if err != nil {
				return nil, nil, err
			}
			c := sdes.Crypto{Tag: uint32(i + 1), Suite: suite, Keys: []sdes.Key{key}}
			cryptos = append(cryptos, c)
			m.Attributes = append(m.Attributes, Attribute{"crypto", c.String()})
		}
	}
	if n.cfg.RTCPMux {
		m.Attributes = append(m.Attributes, Attribute{Key: "rtcp-mux"})
	}
	m.Attributes = append(m.Attributes, Attribute{Key: n.hold.direction().String()})
	return m, cryptos, nil
}

// key returns our master key for suite, made once per dialog so that a
// re-offer or re-answer does not rekey.
func (n *Negotiator) key(suite sdes.Suite) (sdes.Key, error) {
	if k, ok := n.keys[suite]; ok {
		return k, nil
	}
	k, err := sdes.NewKey(suite, n.rnd)
	if err != nil {
		return sdes.Key{}, fmt.Errorf("sdp: %w", err)
	}
	if l := n.cfg.MKILength; l > 0 {
		// The one key of each suite is key number 1.
		k.MKI = make([]byte, l)
		k.MKI[l-1] = 1
	}
	n.keys[suite] = k
	return k, nil
}

// newSession starts one of our descriptions: origin, name, one
// session-level connection, t=0 0.
func (n *Negotiator) newSession() *Session {
	addrType := "IP4"
	if n.local.Addr().Is6() {
		addrType = "IP6"
	}
	addr := n.local.Addr().String()
	return &Session{
		Origin: Origin{
			Username: n.cfg.Username, SessionID: strconv.FormatUint(n.sessID, 10),
			NetType: "IN", AddrType: addrType, Address: addr,
		},
		Name:       n.cfg.SessionName,
		Connection: &Connection{NetType: "IN", AddrType: addrType, Address: addr},
		Timing:     "0 0",
	}
}

// finish stamps the origin version and marshals s. The version grows by
// one whenever the description differs from the last one we sent, and
// stays when it does not (RFC 3264 §8).
func (n *Negotiator) finish(s *Session) []byte {
	s.Origin.SessionVersion = "0"
	key := s.Marshal()
	if n.last != nil && !bytes.Equal(key, n.last) {
		n.version++
	}
	n.last = key
	s.Origin.SessionVersion = strconv.FormatUint(n.version, 10)
	return s.Marshal()
}

// Answer answers an offer (RFC 3264 §6). It takes the first audio stream it
// can use and rejects every other stream with port 0, keeping its format
// list. An error wrapping ErrNotAcceptable means the caller should send
// 488; any other error means the body is malformed (400). A failed Answer
// leaves the Negotiator as it was; a successful one drops an offer of ours
// still outstanding (resolving glare is the SIP layer's business).
func (n *Negotiator) Answer(offer []byte) ([]byte, *Result, error) {
	off, err := Parse(offer)
	if err != nil {
		return nil, nil, err
	}
	ans := n.newSession()
	var (
		res    *Result
		reason error
		slots  = make([]slot, 0, len(off.Media))
	)
	for _, m := range off.Media {
		if res == nil && strings.EqualFold(m.Type, "audio") && m.Port != 0 {
			am, r, err := n.answerAudio(off, m)
			if err == nil {
				res = r
				ans.Media = append(ans.Media, am)
				slots = append(slots, slot{audio: true})
				continue
			}
			if reason == nil {
				reason = err
			}
		}
		rm := &Media{Type: m.Type, Proto: m.Proto, Formats: slices.Clone(m.Formats)}
		if len(rm.Formats) == 0 {
			rm.Formats = []string{"0"}
		}
		ans.Media = append(ans.Media, rm)
		slots = append(slots, slot{typ: rm.Type, proto: rm.Proto, formats: rm.Formats})
	}
	if res == nil {
		if reason == nil {
			reason = ErrNoAudio
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrNotAcceptable, reason)
	}
	body := n.finish(ans)
	n.slots, n.result, n.pending = slots, res, nil
	return body, res, nil
}

// rtpProfile tells whether proto is an RTP profile we speak, and whether it
// is a secure one.
func rtpProfile(proto string) (secure, ok bool) {
	switch strings.ToUpper(proto) {
	case "RTP/AVP", "RTP/AVPF":
		return false, true
	case "RTP/SAVP", "RTP/SAVPF":
		return true, true
	}
	return false, false
}

// validPT reports whether f is an RTP payload type number.
func validPT(f string) (uint8, bool) {
	n, err := strconv.ParseUint(f, 10, 8)
	if err != nil || n > 127 {
		return 0, false
	}
	return uint8(n), true
}

func (n *Negotiator) answerAudio(off *Session, m *Media) (*Media, *Result, error) {
	secure, ok := rtpProfile(m.Proto)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q", ErrTransport, m.Proto)
	}
	conn := off.ConnectionFor(m)
	addr, ok := conn.Addr()
	if !ok {
		return nil, nil, fmt.Errorf("%w: audio stream has no IP connection address", ErrTransport)
	}
	res := &Result{Ptime: n.cfg.Ptime}
	maps := payloadMap(m)

	codecPT, dtmfPT, cnPT := "", "", ""
	for _, f := range m.Formats {
		pt, ok := validPT(f)
		if !ok {
			continue
		}
		r := maps[f]
		if c, ok := codecOf(r); ok && codecPT == "" && slices.Contains(n.cfg.Codecs, c) {
			codecPT, res.Codec, res.PayloadType = f, c, pt
		}
		if isComfortNoise(r) && cnPT == "" && n.cfg.ComfortNoise {
			cnPT, res.ComfortNoise, res.CNPayloadType = f, true, pt
		}
		if isTelephoneEvent(r) && dtmfPT == "" && n.cfg.DTMF == DTMFRFC4733 {
			params, ok := fmtpFor(m, f)
			if !ok {
				params = "0-15" // RFC 4733 §2.4.1: the default list
			}
			if ev := formatEvents(parseEvents(params)); ev != "" {
				dtmfPT, res.DTMF, res.DTMFPayloadType, res.DTMFEvents = f, true, pt, ev
			}
		}
	}
	if codecPT == "" {
		return nil, nil, fmt.Errorf("%w: offered %s", ErrNoCommonCodec, strings.Join(m.Formats, " "))
	}
	res.RecvPayloadType, res.RecvDTMFPayloadType = res.PayloadType, res.DTMFPayloadType
	res.RecvCNPayloadType = res.CNPayloadType

	local, remote, err := n.answerCrypto(m, secure)
	if err != nil {
		return nil, nil, err
	}
	res.LocalCrypto, res.RemoteCrypto = local, remote

	maxPtime := 0
	if v, ok := m.Attr("maxptime"); ok {
		maxPtime, _ = parseMillis(v)
	}
	if v, ok := m.Attr("ptime"); ok {
		if p, ok := parseMillis(v); ok && validPtime(p) && (maxPtime == 0 || p <= maxPtime) {
			res.Ptime = p
		}
	}
	if maxPtime > 0 && res.Ptime > maxPtime {
		res.Ptime = 10
		for _, p := range []int{30, 20} {
			if p <= maxPtime {
				res.Ptime = p
				break
			}
		}
	}

	peer := off.DirectionFor(m)
	if conn.IsHold() {
		peer &^= RecvOnly
	}
	res.Direction = n.hold.direction() & peer.Reverse()
	res.RemoteHold = !peer.Receives()

	_, mux := m.Attr("rtcp-mux")
	res.RTCPMux = mux && n.cfg.RTCPMux
	res.Remote = netip.AddrPortFrom(addr, uint16(m.Port))
	res.RemoteRTCP = remoteRTCP(m, addr, res.RTCPMux)

	am := &Media{Type: m.Type, Port: int(n.local.Port()), Proto: m.Proto, Formats: []string{codecPT}}
	am.Attributes = append(am.Attributes, Attribute{"rtpmap", codecPT + " " + res.Codec.Name() + "/8000"})
	if res.ComfortNoise {
		am.Formats = append(am.Formats, cnPT)
		am.Attributes = append(am.Attributes, Attribute{"rtpmap", cnPT + " " + comfortNoise + "/8000"})
	}
	if res.DTMF {
		am.Formats = append(am.Formats, dtmfPT)
		am.Attributes = append(am.Attributes,
			Attribute{"rtpmap", dtmfPT + " " + telephoneEvent + "/8000"},
			Attribute{"fmtp", dtmfPT + " " + res.DTMFEvents})
	}
	am.Attributes = append(am.Attributes, Attribute{"ptime", strconv.Itoa(res.Ptime)})
	if local != nil {
		am.Attributes = append(am.Attributes, Attribute{"crypto", local.String()})
	}
	if res.RTCPMux {
		am.Attributes = append(am.Attributes, Attribute{Key: "rtcp-mux"})
	}
	am.Attributes = append(am.Attributes, Attribute{Key: res.Direction.String()})
	return am, res, nil
}

// answerCrypto applies our SRTP policy to an offered stream and returns our
// crypto attribute and the peer's, both nil for plain RTP.
func (n *Negotiator) answerCrypto(m *Media, secure bool) (local, remote *sdes.Crypto, err error) {
	if n.cfg.SRTP == SRTPOff {
		if secure {
			return nil, nil, fmt.Errorf("%w: %s", ErrSRTPDisabled, m.Proto)
		}
		return nil, nil, nil
	}
	var offered []sdes.Crypto
	for _, v := range m.Attrs("crypto") {
		if c, err := sdes.Parse(v); err == nil {
			offered = append(offered, c)
		}
	}
	chosen, err := sdes.Select(offered)
	if err != nil {
		switch {
		case n.cfg.SRTP == SRTPRequired:
			return nil, nil, fmt.Errorf("%w: %w", ErrSRTPRequired, err)
		case secure:
			return nil, nil, fmt.Errorf("%w: %w", ErrNoUsableCrypto, err)
		}
		return nil, nil, nil
	}
	key, err := n.key(chosen.Suite)
	if err != nil {
		return nil, nil, err
	}
	// An answer's MKI follows the offer's (sdes.Respond), not our
	// MKILength.
	key.MKI = nil
	ours, err := sdes.Respond(chosen, key)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrNoUsableCrypto, err)
	}
	return &ours, &chosen, nil
}

// remoteRTCP is where RTCP goes: the RTP address when multiplexed, the
// RFC 3605 a=rtcp port (and address) when given, else the next port.
func remoteRTCP(m *Media, addr netip.Addr, mux bool) netip.AddrPort {
	if mux {
		return netip.AddrPortFrom(addr, uint16(m.Port))
	}
	if v, ok := m.Attr("rtcp"); ok {
		f := strings.Fields(v)
		if len(f) > 0 {
			if p, err := strconv.ParseUint(f[0], 10, 16); err == nil && p != 0 {
				a := addr
				if len(f) == 4 {
					if c, ok := (&Connection{NetType: strings.ToUpper(f[1]), Address: f[3]}).Addr(); ok && !c.IsUnspecified() {
						a = c
					}
				}
				return netip.AddrPortFrom(a, uint16(p))
			}
		}
	}
	if m.Port >= 0xffff {
		// No next port: RTCP, if any, can only share the RTP port.
		return netip.AddrPortFrom(addr, uint16(m.Port))
	}
	return netip.AddrPortFrom(addr, uint16(m.Port+1))
}

// ApplyAnswer processes the answer to our outstanding offer (RFC 3264 §6,
// §7). Errors wrap ErrBadAnswer and say which rule the answer broke; the
// offer is consumed either way.
func (n *Negotiator) ApplyAnswer(answer []byte) (*Result, error) {
	p := n.pending
	if p == nil {
		return nil, ErrNoOffer
	}
	n.pending = nil
	ans, err := Parse(answer)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadAnswer, err)
	}
	if len(ans.Media) != len(p.media) {
		return nil, fmt.Errorf("%w: %w: %d m= lines answer %d offered", ErrBadAnswer, ErrMediaCount, len(ans.Media), len(p.media))
	}
	for i, m := range ans.Media {
		if !strings.EqualFold(m.Type, p.media[i].Type) {
			return nil, fmt.Errorf("%w: %w: m= line %d is %q, offered %q", ErrBadAnswer, ErrMediaCount, i+1, m.Type, p.media[i].Type)
		}
	}
	am, om := ans.Media[p.audio], p.media[p.audio]
	if am.Port == 0 {
		return nil, fmt.Errorf("%w: %w", ErrBadAnswer, ErrMediaRejected)
	}
	conn := ans.ConnectionFor(am)
	addr, ok := conn.Addr()
	if !ok {
		return nil, fmt.Errorf("%w: %w: audio stream has no IP connection address", ErrBadAnswer, ErrTransport)
	}
	res := &Result{Ptime: n.cfg.Ptime}
	if err := n.answerCodecs(am, om, res); err != nil {
		return nil, err
	}
	if err := n.answerCryptoOf(am, om, p, res); err != nil {
		return nil, err
	}
	if v, ok := am.Attr("ptime"); ok {
		if pt, ok := parseMillis(v); ok && validPtime(pt) {
			res.Ptime = pt
		}
	}
	peer := ans.DirectionFor(am)
	if conn.IsHold() {
		peer &^= RecvOnly
	}
	res.Direction = p.dir & peer.Reverse()
	res.RemoteHold = p.dir.Sends() && !peer.Receives()
	_, mux := am.Attr("rtcp-mux")
	res.RTCPMux = mux && n.cfg.RTCPMux
	res.Remote = netip.AddrPortFrom(addr, uint16(am.Port))
	res.RemoteRTCP = remoteRTCP(am, addr, res.RTCPMux)

	slots := make([]slot, len(p.media))
	for i, m := range p.media {
		slots[i] = slot{audio: i == p.audio, typ: m.Type, proto: m.Proto, formats: m.Formats}
	}
	n.slots, n.result = slots, res
	return res, nil
}

// answerCodecs checks that every format of the answer is one we offered
// (RFC 3264 §6.1) and picks the answer's first codec and telephone-event.
func (n *Negotiator) answerCodecs(am, om *Media, res *Result) error {
	ours := payloadMap(om)
	theirs := payloadMap(am)
	offeredPT := func(r rtpMap) (uint8, bool) {
		for _, f := range om.Formats {
			if o := ours[f]; strings.EqualFold(o.name, r.name) && o.rate == r.rate {
				pt, _ := validPT(f)
				return pt, true
			}
		}
		return 0, false
	}
	found := false
	for _, f := range am.Formats {
		pt, ok := validPT(f)
		r, mapped := theirs[f]
		if !mapped && slices.Contains(om.Formats, f) {
			// Some answerers leave out a=rtpmap for a dynamic payload
			// type they took from the offer; the offer's mapping holds.
			r, mapped = ours[f]
		}
		if !ok || !mapped {
			return fmt.Errorf("%w: %w: payload type %q", ErrBadAnswer, ErrCodecNotOffered, f)
		}
		recv, offered := offeredPT(r)
		if !offered {
			return fmt.Errorf("%w: %w: %s/%d", ErrBadAnswer, ErrCodecNotOffered, r.name, r.rate)
		}
		if c, ok := codecOf(r); ok && !found {
			found = true
			res.Codec, res.PayloadType, res.RecvPayloadType = c, pt, recv
		}
		if isComfortNoise(r) && !res.ComfortNoise {
			res.ComfortNoise, res.CNPayloadType, res.RecvCNPayloadType = true, pt, recv
		}
		if isTelephoneEvent(r) && !res.DTMF {
			params, ok := fmtpFor(am, f)
			if !ok {
				params = "0-15"
			}
			if ev := formatEvents(parseEvents(params)); ev != "" {
				res.DTMF, res.DTMFPayloadType, res.RecvDTMFPayloadType = true, pt, recv
				res.DTMFEvents = ev
			}
		}
	}
	if !found {
		return fmt.Errorf("%w: %w: no codec in the answer", ErrBadAnswer, ErrCodecNotOffered)
	}
	return nil
}

// answerCryptoOf matches the answer's crypto attribute to one we offered
// (RFC 4568 §7.1.3).
func (n *Negotiator) answerCryptoOf(am, om *Media, p *pendingOffer, res *Result) error {
	vals := am.Attrs("crypto")
	offeredSecure, _ := rtpProfile(om.Proto)
	if len(p.cryptos) == 0 || len(vals) == 0 {
		if offeredSecure || n.cfg.SRTP == SRTPRequired {
			return fmt.Errorf("%w: %w: no crypto attribute in the answer", ErrBadAnswer, ErrCryptoMismatch)
		}
		if !strings.EqualFold(am.Proto, om.Proto) {
			return fmt.Errorf("%w: %w: answer uses %q, offered %q", ErrBadAnswer, ErrTransport, am.Proto, om.Proto)
		}
		return nil
	}
	if _, ok := rtpProfile(am.Proto); !ok {
		return fmt.Errorf("%w: %w: answer uses %q, offered %q", ErrBadAnswer, ErrTransport, am.Proto, om.Proto)
	}
	remote, err := sdes.Parse(vals[0])
	if err != nil {
		return fmt.Errorf("%w: %w: %w", ErrBadAnswer, ErrCryptoMismatch, err)
	}
	for i := range p.cryptos {
		local := p.cryptos[i]
		if local.Tag != remote.Tag || local.Suite != remote.Suite {
			continue
		}
		if err := remote.Check(); err != nil {
			return fmt.Errorf("%w: %w: %w", ErrBadAnswer, ErrCryptoMismatch, err)
		}
		res.LocalCrypto, res.RemoteCrypto = &local, &remote
		return nil
	}
	return fmt.Errorf("%w: %w: tag %d %s was not offered", ErrBadAnswer, ErrCryptoMismatch, remote.Tag, remote.Suite)
}
