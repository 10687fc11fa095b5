// Package line is the call control of one FXS port: the state machine that
// gives an analog phone its behaviour, driven by the port's hook events, the
// digits the phone dials, the calls of its SIP account and of the other
// ports, and timers; and driving the SLIC (ringing, polarity, on-hook
// transmission), the tones the phone hears and the media path.
//
// A Line runs two goroutines. The control goroutine owns the call state and
// is the only one to change it (control.go); every input, from the hook
// switch to a SIP response, reaches it as an event on one channel, and its
// timers are deadlines it keeps itself, so that tests drive it step by step
// on a virtual clock. The media goroutine (media.go) is paced by the port's
// PCM clock: every 20 ms it reads the mouthpiece, runs the DTMF receiver,
// and writes the earpiece, mixing what the current plan says (a tone, the
// calls' audio, caller ID). The control goroutine publishes a new plan
// whenever the state changes; the media goroutine allocates nothing per
// frame.
//
// What a phone on a line can do (features.go lists the codes): dial by DTMF
// or pulse through a digit map; hotline and warm line; call another port
// by its extension, intercom and paging; receive calls with the country's
// ring cadence (or a distinctive one) and caller ID; call waiting with
// caller ID on call waiting; flash to hold, swap, consult, conference
// (mixed on the gateway) and transfer (REFER, blind and attended); do not
// disturb, call forwarding, anonymous call rejection, last-number redial;
// message waiting with stutter dial tone and visual indication; DTMF during
// calls as RFC 4733 events, SIP INFO or in-band. Every call is logged.
package line

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tipring/tipring/dsp/callerid"
	"github.com/tipring/tipring/dsp/fax"
	"github.com/tipring/tipring/dsp/tone"
	"github.com/tipring/tipring/firmware/line/digitmap"
	"github.com/tipring/tipring/hal"
)

// DTMFMode is how digits dialed during a call reach the far end.
type DTMFMode uint8

// DTMF modes.
const (
	DTMFRFC4733 DTMFMode = iota // RTP events; the tones are muted from the audio
	DTMFInfo                    // SIP INFO; the tones are muted from the audio
	DTMFInband                  // the tones stay in the audio
)

// ParseDTMFMode reads "rfc4733", "info" or "inband".
func ParseDTMFMode(s string) (DTMFMode, error) {
	switch s {
	case "rfc4733", "rfc2833", "":
		return DTMFRFC4733, nil
	case "info":
		return DTMFInfo, nil
	case "inband":
		return DTMFInband, nil
	}
	return 0, fmt.Errorf("line: DTMF mode %q is not rfc4733, info or inband", s)
}

// Features are a line's switchable services. The phone changes some of
// them with feature codes; Config.OnFeatures then saves them.
type Features struct {
	CallerID        bool // send caller ID to the phone
	CallWaiting     bool
	DND             bool // do not disturb
	AnonymousReject bool // refuse callers who withhold their number
	ForwardAlways   string
	ForwardBusy     string
	ForwardNoAnswer string
	// NoAnswerAfter is how long a call rings before ForwardNoAnswer.
	NoAnswerAfter time.Duration
	// Hotline is dialed on off-hook; after Warmline when Warmline > 0.
	Hotline  string
	Warmline time.Duration
}

// Config is what a line needs.
type Config struct {
	Port    hal.Port
	Country *tone.Country
	// CallerID is the caller ID standard; 0 means none.
	CallerID callerid.Standard
	// CallerIDOptions tune the on-hook sequences (ETSI alert, polarity
	// reversal).
	CallerIDOptions callerid.Options
	// DigitMap decides when a number is complete; nil means the
	// default map.
	DigitMap *digitmap.Map
	// Extension is the number other ports dial to reach this one.
	Extension string
	// DisplayName is shown on the other ports' phones for local calls.
	DisplayName string
	DTMF        DTMFMode
	// FaxReinvite, when a fax or modem tone is heard in a SIP call,
	// re-offers the call as G.711 pass-through (the codec in use alone,
	// no events, no comfort noise, silence suppression off).
	FaxReinvite bool
	// Echo configures the line echo canceller, which runs during calls
	// on what the phone sends; the zero value runs it with a 32 ms tail,
	// non-linear processing and comfort noise.
	Echo EchoConfig
	// HowlerAfter is how long busy, congestion or an unused dial tone
	// plays before the howler; 0 means 30 s.
	HowlerAfter time.Duration
	Features    Features
	// OnFeatures is called (from the line's goroutine) when a feature
	// code changed Features, to save them.
	OnFeatures func(Features)
	// Network is the line's SIP account; nil means local calls only.
	Network Network
	// Exchange connects the gateway's ports; nil means none.
	Exchange *Exchange
	// History receives a record of every call; nil keeps none.
	History *History
	// Liveness, when set, registers a liveness check by name: the media
	// loop beats once per PCM frame and the control goroutine once a
	// second, so that a hardware watchdog resets a board whose lines
	// stall. The line unregisters its checks when it stops.
	Liveness func(name string, limit time.Duration) Check
	Logger   *slog.Logger
	// now is the clock; tests replace it.
	now func() time.Time
}

// Line is the call control of one port.
type Line struct {
	cfg    Config
	port   hal.Port
	log    *slog.Logger
	events chan event
	keys   chan keyEvent // DTMF from the media loop
	ctl    *controller

	plan   atomic.Pointer[plan]
	status atomic.Pointer[Status]
	info   chan byte // INFO digits for the media loop to play
	// faxTones reports a fax or modem tone the media loop heard in a call.
	faxTones chan fax.Tone

	// identMu guards cfg.Extension and cfg.DisplayName, which the
	// exchange reads from other lines' goroutines.
	identMu sync.Mutex
}

// ident returns the line's extension and display name.
func (l *Line) ident() (ext, name string) {
	l.identMu.Lock()
	defer l.identMu.Unlock()
	return l.cfg.Extension, l.cfg.DisplayName
}

// New returns the call control for cfg.Port.
func New(cfg Config) (*Line, error) {
	if cfg.Country == nil {
		return nil, errors.New("line: no country")
	}
	if cfg.DigitMap == nil {
		m, err := digitmap.Parse(defaultDigitMap)
		if err != nil {
			return nil, err
		}
		cfg.DigitMap = m
	}
	if cfg.HowlerAfter <= 0 {
		cfg.HowlerAfter = 30 * time.Second
	}
	if cfg.Features.NoAnswerAfter <= 0 {
		cfg.Features.NoAnswerAfter = 20 * time.Second
	}
	if cfg.Extension == "" {
		cfg.Extension = fmt.Sprintf("**%d", cfg.Port.Number)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	l := &Line{
		cfg:      cfg,
		port:     cfg.Port,
		log:      cfg.Logger.With("line", cfg.Port.Number),
		events:   make(chan event, 64),
		keys:     make(chan keyEvent, 32),
		info:     make(chan byte, 8),
		faxTones: make(chan fax.Tone, 1),
	}
	l.ctl = newController(l)
	l.plan.Store(&plan{})
	l.ctl.publishStatus()
	if cfg.Exchange != nil {
		cfg.Exchange.add(l)
	}
	return l, nil
}

// defaultDigitMap is used when Config.DigitMap is nil.
const defaultDigitMap = "(911S0|1[2-9]xxxxxxxxx|[2-9]xxxxxx|*xx|**x.T|xx.T|x.#)"

// EchoConfig tunes a line's echo canceller (package dsp/echo).
type EchoConfig struct {
	// Off turns the canceller off.
	Off bool
	// Tail is the echo path it models beyond the PCM path's own delay;
	// 0 means 32 ms, at most 128 ms.
	Tail time.Duration
}

// Check is one liveness check (a watchdog.Check).
type Check interface {
	Beat()
	Unregister()
}

// Port returns the port number.
func (l *Line) Port() int { return l.port.Number }

// Status is a snapshot of a line for the status page and API.
type Status struct {
	Port  int    `json:"port"`
	Hook  string `json:"hook"`
	State string `json:"state"`
	// Extension is the number other ports dial.
	Extension string `json:"extension"`
	// Call is the call the phone is in or being offered, nil when none;
	// Calls counts the line's calls (held and waiting ones included).
	Call  *CallStatus `json:"call"`
	Calls int         `json:"calls"`
	// MWI tells that messages are waiting.
	MWI bool `json:"mwi"`
	// Features in force.
	DND           bool   `json:"dnd"`
	ForwardAlways string `json:"forwardAlways,omitempty"`
	// Registration and RegistrationError are filled in by the gateway.
	Registration      string `json:"registration,omitempty"`
	RegistrationError string `json:"registrationError,omitempty"`
	// Underruns counts PCM periods the line's stream had no frame for.
	Underruns uint64 `json:"pcmUnderruns"`
}

// CallStatus describes the call in progress.
type CallStatus struct {
	Direction string    `json:"direction"`
	Number    string    `json:"number"`
	Name      string    `json:"name,omitempty"`
	Local     bool      `json:"local,omitempty"`
	State     string    `json:"state"`
	Since     time.Time `json:"since"`
	// Fax tells that a fax or modem tone was heard: the call carries
	// G.711 untouched by the echo canceller.
	Fax   bool   `json:"fax,omitempty"`
	Codec string `json:"codec,omitempty"`
	// JitterMS and Lost are the received stream's RFC 3550 figures.
	JitterMS float64 `json:"jitterMs"`
	Lost     int32   `json:"lost"`
	Received uint64  `json:"packetsReceived"`
	Sent     uint64  `json:"packetsSent"`
	// SendIntervalP50MS is the median interval between RTP sends,
	// SendJitterP99MS the 99th percentile of the deviation from it.
	SendIntervalP50MS float64 `json:"sendIntervalP50Ms"`
	SendJitterP99MS   float64 `json:"sendJitterP99Ms"`
}

// Status returns the line's current status.
func (l *Line) Status() Status {
	st := *l.status.Load()
	st.Hook = l.port.Line.Hook().String()
	st.Underruns = l.port.PCM.Underruns()
	if st.Call != nil {
		c := *st.Call
		if m, ok := l.plan.Load().statsMedia(); ok {
			s := m.Stats()
			c.Codec = m.Codec()
			c.JitterMS = float64(s.Jitter) / float64(time.Millisecond)
			c.Lost, c.Received, c.Sent = s.Lost, s.PacketsReceived, s.PacketsSent
			c.SendIntervalP50MS = float64(s.SendInterval.Quantile(0.5)) / float64(time.Millisecond)
			c.SendJitterP99MS = float64(s.SendInterval.Jitter(0.99, s.SendInterval.Quantile(0.5))) / float64(time.Millisecond)
		}
		st.Call = &c
	}
	return st
}

// States lists every call state a Status may report, for metrics.
func States() []string {
	out := make([]string, 0, len(stateNames))
	for _, s := range stateNames {
		out = append(out, s)
	}
	return out
}

// SetMWI tells the line whether messages are waiting for it (from a
// message-summary NOTIFY): the phone's lamp or display follows by FSK
// VMWI while on-hook, and its dial tone stutters.
func (l *Line) SetMWI(waiting bool) {
	l.post(event{kind: evMWI, flag: waiting})
}

// SetFeatures replaces the line's features (after a configuration change).
func (l *Line) SetFeatures(f Features) {
	l.post(event{kind: evFeatures, features: f})
}

// SetNetwork gives the line its SIP account (nil: none, local calls only),
// after a configuration change. Calls in progress on the old one go on.
func (l *Line) SetNetwork(n Network) {
	l.post(event{kind: evNetwork, network: n})
}

// Reconfigure applies a changed configuration to the running line: its
// Country, CallerID, CallerIDOptions, DigitMap, Extension, DisplayName,
// DTMF, FaxReinvite, HowlerAfter and Features. The other fields of cfg are ignored.
// A number being dialed finishes with the old digit map.
func (l *Line) Reconfigure(cfg Config) {
	l.post(event{kind: evConfig, config: &cfg})
}

// offer delivers a local call to the line.
func (l *Line) offer(c Call) {
	select {
	case l.events <- event{kind: evIncoming, call: c}:
	default:
		_ = c.Reject(486)
	}
}

// post queues an event for the control goroutine; after the line has
// stopped, events are dropped.
func (l *Line) post(ev event) {
	select {
	case l.events <- ev:
	case <-l.ctl.opCtx.Done():
	}
}

// Run runs the line until ctx ends or the port's event channel closes. An
// error the media path meets after ctx has ended (a stream closed during
// shutdown) is part of stopping and is not reported. Calls still up when
// it returns are hung up.
func (l *Line) Run(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var wg sync.WaitGroup
	var mediaErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		mediaErr = l.media(ctx)
		cancel()
	}()
	err := l.ctl.run(ctx)
	cancel()
	wg.Wait()
	l.ctl.shutdown()
	if err == nil && mediaErr != nil && parent.Err() == nil && !errors.Is(mediaErr, context.Canceled) {
		err = mediaErr
	}
	return err
}
