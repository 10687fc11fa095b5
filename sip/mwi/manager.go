package mwi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/tipring/tipring/sip/ua"
)

// Lingering of ended dialogs: a NOTIFY that arrives for a subscription
// just removed (the final NOTIFY after an un-SUBSCRIBE, RFC 6665
// §4.1.2.3, or a retransmission) is answered 200 rather than 481 for
// lingerTime, for at most maxLinger dialogs.
const (
	lingerTime = 32 * time.Second
	maxLinger  = 128
)

// dialogKey names a subscription dialog by what a NOTIFY for it carries:
// its Call-ID and, in the To tag, our tag.
type dialogKey struct{ callID, localTag string }

// Manager dispatches the message-summary NOTIFYs one agent receives to the
// subscriptions of its lines. Create one per agent with [NewManager]; its
// methods are safe for concurrent use.
type Manager struct {
	agent *ua.Agent
	log   *slog.Logger

	mu       sync.Mutex
	byUser   map[string]*Subscription
	byDialog map[dialogKey]*Subscription
	ended    map[dialogKey]time.Time // until when a dialog lingers
	closed   bool
}

// NewManager installs the agent's NOTIFY handler for the message-summary
// event package and returns the manager; log may be nil. Close removes the
// handler.
func NewManager(agent *ua.Agent, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{
		agent:    agent,
		log:      log.With("pkg", "mwi"),
		byUser:   make(map[string]*Subscription),
		byDialog: make(map[dialogKey]*Subscription),
		ended:    make(map[dialogKey]time.Time),
	}
	agent.HandleEvent(sip.NOTIFY, EventPackage, m.onNotify)
	return m
}

// Subscribe validates cfg and starts keeping the line's mailbox
// subscribed in the background until ctx ends or [Subscription.Stop] is
// called. Unsolicited NOTIFYs for cfg.User are taken from now on. Only
// one subscription per user is allowed.
func (m *Manager) Subscribe(ctx context.Context, cfg Config) (*Subscription, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = m.log
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if m.byUser[cfg.User] != nil {
		return nil, ErrDuplicateUser
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Subscription{
		m:         m,
		cfg:       cfg,
		log:       log.With("line", cfg.User+"@"+cfg.Domain, "event", EventPackage),
		rnd:       mrand.Float64,
		cancel:    cancel,
		done:      make(chan struct{}),
		wake:      make(chan struct{}, 1),
		summaries: make(chan Summary, 1),
		auth:      make(map[int]*authEntry),
	}
	s.state = State{Status: StatusSubscribing, Since: time.Now()}
	if cfg.UnsolicitedOnly {
		s.state.Status = StatusListening
	}
	m.byUser[cfg.User] = s
	go s.run(ctx)
	return s, nil
}

// Close stops every subscription (un-subscribing within ctx) and removes
// the agent's handler. Close the manager before its agent: the
// un-SUBSCRIBEs need the agent's transports.
func (m *Manager) Close(ctx context.Context) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	subs := make([]*Subscription, 0, len(m.byUser))
	for _, s := range m.byUser {
		subs = append(subs, s)
	}
	m.mu.Unlock()
	var errs []error
	var emu sync.Mutex
	var wg sync.WaitGroup
	for _, s := range subs {
		wg.Go(func() {
			if err := s.Stop(ctx); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		})
	}
	wg.Wait()
	m.agent.HandleEvent(sip.NOTIFY, EventPackage, nil)
	return errors.Join(errs...)
}

// addDialog routes NOTIFYs of the dialog k to s.
func (m *Manager) addDialog(k dialogKey, s *Subscription) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byDialog[k] = s
}

// endDialog stops routing dialog k and lets it linger.
func (m *Manager) endDialog(k dialogKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.byDialog[k]; !ok {
		return
	}
	delete(m.byDialog, k)
	now := time.Now()
	for old, until := range m.ended {
		if now.After(until) {
			delete(m.ended, old)
		}
	}
	if len(m.ended) >= maxLinger {
		for old := range m.ended {
			delete(m.ended, old)
			break
		}
	}
	m.ended[k] = now.Add(lingerTime)
}

// forget removes a stopped subscription.
func (m *Manager) forget(s *Subscription) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byUser[s.cfg.User] == s {
		delete(m.byUser, s.cfg.User)
	}
}

// onNotify is the agent's handler of message-summary NOTIFYs. A NOTIFY
// with a To tag belongs to a subscription dialog, found by Call-ID and
// that tag; one without is unsolicited and goes to the line whose user
// the Request-URI names.
func (m *Manager) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	var toTag string
	if to := req.To(); to != nil && to.Params != nil {
		toTag, _ = to.Params.Get("tag")
	}
	callID := ""
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	m.mu.Lock()
	if toTag != "" {
		k := dialogKey{callID: callID, localTag: toTag}
		s := m.byDialog[k]
		until, lingering := m.ended[k]
		m.mu.Unlock()
		switch {
		case s != nil:
			s.onDialogNotify(req, tx, k)
		case lingering && time.Now().Before(until):
			m.log.Debug("NOTIFY for an ended subscription", "call_id", callID)
			respond(m.log, req, tx, 200, "OK")
		default:
			m.log.Info("NOTIFY for an unknown subscription", "call_id", callID, "source", req.Source())
			respond(m.log, req, tx, 481, "Subscription Does Not Exist")
		}
		return
	}
	s := m.byUser[req.Recipient.User]
	m.mu.Unlock()
	if s == nil {
		m.log.Info("unsolicited NOTIFY for an unknown user", "user", req.Recipient.User, "source", req.Source())
		respond(m.log, req, tx, 404, "Not Found")
		return
	}
	s.onUnsolicited(req, tx)
}

// respond answers req. A response that establishes nothing still gets a
// To tag when the request had none (RFC 3261 §8.2.6.2).
func respond(log *slog.Logger, req *sip.Request, tx sip.ServerTransaction, code int, reason string) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	if to := res.To(); to != nil {
		if to.Params == nil {
			to.Params = sip.NewParams()
		}
		if _, ok := to.Params.Get("tag"); !ok {
			to.Params.Add("tag", randomHex(8))
		}
	}
	if err := tx.Respond(res); err != nil {
		log.Debug("response not sent", "status", code, "err", err)
	}
}

// headerValue returns the first value of a header (long or compact
// name), trimmed.
func headerValue(m interface{ GetHeader(string) sip.Header }, names ...string) string {
	for _, n := range names {
		if h := m.GetHeader(n); h != nil {
			return strings.TrimSpace(h.Value())
		}
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
