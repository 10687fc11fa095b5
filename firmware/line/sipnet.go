package line

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tipring/tipring/sip/call"
	"github.com/tipring/tipring/sip/media"
)

// SIPNetwork is a line's SIP account as a Network: calls placed and
// received through a call.Line.
type SIPNetwork struct {
	line     *call.Line
	incoming chan Call
}

// NewSIPNetwork wraps l. Its Incoming channel is fed by a goroutine that
// ends when ctx does.
func NewSIPNetwork(ctx context.Context, l *call.Line) *SIPNetwork {
	n := &SIPNetwork{line: l, incoming: make(chan Call)}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case c, ok := <-l.Incoming():
				if !ok {
					return
				}
				select {
				case n.incoming <- &sipCall{c: c}:
				case <-ctx.Done():
					_ = c.Reject(503)
					return
				}
			}
		}
	}()
	return n
}

// Dial implements Network.
func (n *SIPNetwork) Dial(ctx context.Context, number string) (Call, error) {
	c, err := n.line.Dial(ctx, number)
	if err != nil {
		return nil, err
	}
	return &sipCall{c: c}, nil
}

// Incoming implements Network.
func (n *SIPNetwork) Incoming() <-chan Call { return n.incoming }

// sipCall is a call.Call as a line Call.
type sipCall struct{ c *call.Call }

func (s *sipCall) ID() string                       { return s.c.ID() }
func (s *sipCall) Direction() call.Direction        { return s.c.Direction() }
func (s *sipCall) Remote() call.Party               { return s.c.Remote() }
func (s *sipCall) Events() <-chan call.Event        { return s.c.Events() }
func (s *sipCall) Ring() error                      { return s.c.Ring() }
func (s *sipCall) Answer(ctx context.Context) error { return s.c.Answer(ctx) }
func (s *sipCall) Reject(code int) error            { return s.c.Reject(code) }
func (s *sipCall) Redirect(target string) error     { return s.c.Redirect(target) }
func (s *sipCall) Hangup(ctx context.Context) error { return s.c.Hangup(ctx) }
func (s *sipCall) Hold(ctx context.Context) error   { return s.c.Hold(ctx) }
func (s *sipCall) Resume(ctx context.Context) error { return s.c.Resume(ctx) }
func (s *sipCall) SendDTMF(ctx context.Context, digit rune, d time.Duration) error {
	return s.c.SendDTMF(ctx, digit, d)
}
func (s *sipCall) PassThrough(ctx context.Context) error { return s.c.PassThrough(ctx) }

func (s *sipCall) Transfer(ctx context.Context, target string) error {
	return s.c.Transfer(ctx, target)
}

func (s *sipCall) TransferTo(ctx context.Context, other Call) error {
	o, ok := other.(*sipCall)
	if !ok {
		return fmt.Errorf("transfer to a local call: %w", ErrNotSupported)
	}
	return s.c.TransferTo(ctx, o.c)
}

func (s *sipCall) AcceptReferral(ctx context.Context, r *call.Referral) (Call, error) {
	c, err := r.Accept(ctx)
	if err != nil {
		return nil, err
	}
	return &sipCall{c: c}, nil
}

// Ringing maps Alert-Info to a distinctive ring: the Bellcore-drN names
// many servers use (as a URI, a parameter, or an "info" value) and the
// RFC 7462 internal/external URNs.
func (s *sipCall) Ringing() string {
	for _, a := range s.c.AlertInfo() {
		v := strings.ToLower(a.URI)
		if info, ok := a.Params["info"]; ok {
			v += " " + strings.ToLower(info)
		}
		for _, name := range []string{"dr1", "dr2", "dr3", "dr4", "dr5"} {
			if strings.Contains(v, "bellcore-"+name) || strings.HasSuffix(v, ":"+name) {
				return name
			}
		}
		if strings.Contains(v, "urn:alert:source:internal") {
			return "dr2"
		}
	}
	return ""
}

func (s *sipCall) Replaces() string {
	if r := s.c.Replaces(); r != nil {
		return r.ID()
	}
	return ""
}

func (s *sipCall) Media() Media {
	m, ok := s.c.Media().(*call.RTPMedia)
	if !ok || m == nil {
		return nil
	}
	return &sipMedia{RTPMedia: m, c: s.c}
}

// sipMedia adds the negotiated codec to a call's RTP session.
type sipMedia struct {
	*call.RTPMedia
	c *call.Call
}

func (m *sipMedia) Stats() media.Stats { return m.Session.Stats() }

func (m *sipMedia) Codec() string {
	if r := m.c.Result(); r != nil {
		return r.Codec.Name()
	}
	return ""
}
