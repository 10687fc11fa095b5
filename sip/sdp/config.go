package sdp

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/tipring/tipring/sip/sdes"
)

// SRTPPolicy says whether media is encrypted.
type SRTPPolicy uint8

// SRTP policies.
const (
	// SRTPOff: plain RTP only. Offers carry no a=crypto; an RTP/SAVP stream
	// in an offer is rejected, a=crypto in an RTP/AVP offer is ignored.
	SRTPOff SRTPPolicy = iota
	// SRTPOptional: best-effort SRTP. Offers use RTP/AVP with a=crypto;
	// the call falls back to plain RTP when the peer does not answer with
	// crypto. Offered crypto is accepted on RTP/AVP and RTP/SAVP.
	SRTPOptional
	// SRTPRequired: SRTP or no call. Offers use RTP/SAVP with a=crypto;
	// an offer without usable crypto fails with ErrSRTPRequired.
	SRTPRequired
)

// DTMFMethod says how digits travel; only RFC 4733 shows in SDP.
type DTMFMethod uint8

// DTMF methods.
const (
	// DTMFRFC4733 sends digits as telephone-event packets (RFC 4733); the
	// offer carries telephone-event and answers accept it.
	DTMFRFC4733 DTMFMethod = iota
	// DTMFInband leaves digits in the audio; telephone-event is neither
	// offered nor accepted.
	DTMFInband
	// DTMFInfo sends digits in SIP INFO requests; as for DTMFInband, SDP
	// carries no telephone-event.
	DTMFInfo
)

// Config holds a line's media preferences. The zero value is usable:
// PCMU then PCMA, 20 ms, RFC 4733 events on payload type 101, no SRTP.
type Config struct {
	// Codecs lists the codecs we use, most preferred first; empty means
	// PCMU, PCMA.
	Codecs []Codec
	// Ptime is the packetisation time in milliseconds we offer and send
	// with: 10, 20 or 30; 0 means 20.
	Ptime int
	// DTMF is the digit method.
	DTMF DTMFMethod
	// DTMFPayloadType is the dynamic payload type (96 to 127) we offer for
	// telephone-event; 0 means 101. In answers the offer's number is used.
	DTMFPayloadType uint8
	// SRTP is the encryption policy.
	SRTP SRTPPolicy
	// RTCPMux offers and accepts RTP and RTCP on one port (RFC 5761).
	RTCPMux bool
	// ComfortNoise offers and accepts comfort noise, CN/8000 (RFC 3389
	// §5: the static payload type 13, or a dynamic one an offer maps to
	// CN/8000). Off, CN is neither offered nor accepted and descriptions
	// are as without the field.
	ComfortNoise bool
	// MKILength, from 1 to sdes.MaxUsableMKILength, gives the SRTP keys
	// we offer a master key identifier of that many bytes (RFC 4568
	// §6.1), for peers that expect one; 0 means none. Answers follow
	// the offer's MKI length whatever this says.
	MKILength int
	// Username is the o= user name; empty means "-".
	Username string
	// SessionName is the s= line; empty means "Tipring".
	SessionName string
}

// withDefaults returns c with the defaults filled in, or an error wrapping
// ErrConfig.
func (c Config) withDefaults() (Config, error) {
	if len(c.Codecs) == 0 {
		c.Codecs = []Codec{PCMU, PCMA}
	} else {
		c.Codecs = slices.Clone(c.Codecs)
	}
	for i, codec := range c.Codecs {
		if codec != PCMU && codec != PCMA {
			return c, fmt.Errorf("%w: codec %s is not PCMU or PCMA", ErrConfig, codec.Name())
		}
		if slices.Contains(c.Codecs[:i], codec) {
			return c, fmt.Errorf("%w: codec %s listed twice", ErrConfig, codec.Name())
		}
	}
	if c.Ptime == 0 {
		c.Ptime = 20
	}
	if !validPtime(c.Ptime) {
		return c, fmt.Errorf("%w: ptime %d ms, want 10, 20 or 30", ErrConfig, c.Ptime)
	}
	if c.DTMFPayloadType == 0 {
		c.DTMFPayloadType = 101
	}
	if c.DTMFPayloadType < 96 || c.DTMFPayloadType > 127 {
		return c, fmt.Errorf("%w: DTMF payload type %d outside 96 to 127", ErrConfig, c.DTMFPayloadType)
	}
	if c.DTMF > DTMFInfo {
		return c, fmt.Errorf("%w: DTMF method %d", ErrConfig, c.DTMF)
	}
	if c.SRTP > SRTPRequired {
		return c, fmt.Errorf("%w: SRTP policy %d", ErrConfig, c.SRTP)
	}
	if c.MKILength < 0 || c.MKILength > sdes.MaxUsableMKILength {
		return c, fmt.Errorf("%w: MKI length %d, want 0 to %d", ErrConfig, c.MKILength, sdes.MaxUsableMKILength)
	}
	if c.Username == "" {
		c.Username = "-"
	}
	if c.SessionName == "" {
		c.SessionName = "Tipring"
	}
	if strings.ContainsAny(c.Username, " \t\r\n") || strings.ContainsAny(c.SessionName, "\r\n") {
		return c, fmt.Errorf("%w: user or session name has white space or line breaks", ErrConfig)
	}
	return c, nil
}

func checkLocal(local netip.AddrPort) error {
	a := local.Addr().Unmap()
	if !a.IsValid() || a.IsUnspecified() || a.Zone() != "" || local.Port() == 0 {
		return fmt.Errorf("%w: local RTP address %v", ErrConfig, local)
	}
	return nil
}
