package call

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/tipring/tipring/sip/media"
	"github.com/tipring/tipring/sip/sdp"
)

// RTPMedia is the [Media] of a call carried by a [media.Session]: the
// negotiated results of the call's offer/answer exchanges are applied to
// the session, and the line's media loop drives it through the embedded
// session's WriteFrame, ReadFrame, SendDigit and Digits. A call's
// Media() is an *RTPMedia when the line's factory came from
// [NewRTPMediaFactory].
type RTPMedia struct {
	*media.Session
	advertise netip.AddrPort
}

var _ Media = (*RTPMedia)(nil)

// NewRTPMediaFactory returns a MediaFactory that binds a new
// [media.Session] with cfg for every call. advertise is the address put
// into our session descriptions; the zero value means the address the
// session is bound to, which cfg.Addr must then name (not the wildcard).
func NewRTPMediaFactory(cfg media.Config, advertise netip.Addr) MediaFactory {
	return func(ctx context.Context) (Media, error) {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("call: RTP media: %w", err)
		}
		// The session lives as long as the call, not as long as the
		// request that made it: only Close ends it.
		s, err := media.Listen(context.WithoutCancel(ctx), cfg)
		if err != nil {
			return nil, fmt.Errorf("call: RTP media: %w", err)
		}
		local := s.LocalRTP()
		if advertise.IsValid() {
			local = netip.AddrPortFrom(advertise.Unmap(), local.Port())
		} else if local.Addr().IsUnspecified() {
			_ = s.Close()
			return nil, fmt.Errorf("%w: media bound to %v and no address to advertise", ErrInvalidConfig, local.Addr())
		}
		return &RTPMedia{Session: s, advertise: local}, nil
	}
}

// LocalAddr returns the RTP address advertised in our session
// descriptions.
func (m *RTPMedia) LocalAddr() netip.AddrPort { return m.advertise }

// Start applies the first completed exchange to the session.
func (m *RTPMedia) Start(res *sdp.Result) error {
	if err := m.Apply(res); err != nil {
		return fmt.Errorf("call: start media: %w", err)
	}
	return nil
}

// Update applies a later exchange (hold, resume, a new address, codec or
// keys) to the session.
func (m *RTPMedia) Update(res *sdp.Result) error {
	if err := m.Apply(res); err != nil {
		return fmt.Errorf("call: update media: %w", err)
	}
	return nil
}
