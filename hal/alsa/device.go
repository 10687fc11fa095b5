package alsa

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tipring/tipring/hal"
)

// Rates a Device runs at. At 16 kHz each slot converts to and from the
// 8 kHz of hal.Frame with a half-band filter.
const (
	Rate8k  = 8000
	Rate16k = 16000
)

// Limits of Config.
const (
	MaxChannels = 32
	MinPeriods  = 2
	MaxPeriods  = 4
)

// Config selects and shapes a PCM device.
type Config struct {
	// Card is the sound card: its number ("1") or its ALSA id ("tipring",
	// the name the device-tree overlay gives it). Empty means "0".
	Card string
	// Device is the PCM device on the card (hw:Card,Device).
	Device int
	// Rate is 8000 or 16000 frames per second; 0 means 8000.
	Rate int
	// Channels is the number of TDM slots in a frame of the stream, 1–32;
	// 0 means 1.
	Channels int
	// Periods is the ring buffer's size in 20 ms periods, 2–4; 0 means the
	// most the hardware allows up to 4.
	Periods int
	// Playout is how long after a period's capture the frames the slots
	// write in answer start to play: each period the loop waits up to
	// Playout − 1 ms for every slot's frame before it writes the period,
	// and one period plus Playout of silence is queued ahead of playback
	// at start, so the frames play Playout after the period they answer
	// began (hal.PlayoutMin…hal.FrameDuration; 0 means hal.FrameDuration).
	// A slot later than that misses its period (an underrun of the slot,
	// not of the device).
	Playout time.Duration
	// Kernel reaches the sound card; nil means LinuxKernel{}.
	Kernel Kernel
	// Logger receives the negotiated parameters and xrun reports; nil
	// discards them.
	Logger *slog.Logger
}

// Params describes the configuration the hardware accepted.
type Params struct {
	Card, Device int
	Rate         int
	Channels     int
	PeriodFrames int // frames per period: 20 ms
	Periods      int // periods in the ring buffer
	Linked       bool
	Protocol     string // PCM protocol version, "2.0.15"
}

// Stats counts the trouble a Device had.
type Stats struct {
	// PlaybackXruns counts playback underruns: the hardware ran out of
	// frames to play because the loop was late.
	PlaybackXruns uint64
	// CaptureXruns counts capture overruns: the hardware overwrote frames
	// the loop had not read.
	CaptureXruns uint64
	// Restarts counts how often the streams were prepared and started
	// again, after xruns and other errors.
	Restarts uint64
}

// maxFailures is how many consecutive failed cycles the loop tolerates
// (each followed by a restart) before it gives up.
const maxFailures = 5

// Device is one full-duplex PCM device: its capture and playback
// substreams, configured alike, and the goroutine that moves one period
// each way per 20 ms. Slot returns a hal.PCM per TDM slot.
type Device struct {
	log    *slog.Logger
	params Params
	play   Substream
	capt   Substream

	period   int           // frames per period at the device rate
	channels int           // samples per frame
	playout  time.Duration // see Config.Playout
	lead     int           // Playout in frames at the device rate
	kick     chan struct{} // a slot queued a frame
	timer    *time.Timer   // the loop's wait for the slots' frames
	cbuf     []int16       // one captured period, interleaved
	pbuf     []int16       // one period to play, interleaved

	mu    sync.Mutex                // guards changes of slots
	slots atomic.Pointer[slotTable] // read by the loop without locking

	playXruns, captXruns, restarts atomic.Uint64

	closing   atomic.Bool
	running   bool // the loop was started; set before it starts
	cancel    context.CancelFunc
	done      chan struct{}
	err       error // why the loop stopped; written before done closes
	closeOnce sync.Once
	closeErr  error
}

// slotTable is the set of open slots and the idle sample of each channel
// (what is played where no slot has a frame). It is replaced, never
// changed, so that the loop reads it without a lock.
type slotTable struct {
	slots []*slotPCM
	idle  []int16
}

// Open opens the capture and playback substreams of the device, negotiates
// S16_LE interleaved audio of cfg.Channels channels at cfg.Rate in 20 ms
// periods on both, links them, and starts them. From then on the device's
// clock runs whether or not any slot is open, which is what a SLIC on the
// bus needs from before its reset.
//
// ctx bounds the life of the device: when it is done the loop stops and
// the device closes, as Close does.
func Open(ctx context.Context, cfg Config) (*Device, error) {
	d, err := open(cfg)
	if err != nil {
		return nil, err
	}
	if err := d.restart(); err != nil {
		d.closeStreams()
		return nil, fmt.Errorf("alsa: hw:%d,%d: start: %w", d.params.Card, d.params.Device, err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	d.cancel = cancel
	d.running = true
	go d.run(runCtx)
	context.AfterFunc(runCtx, func() { d.Close() })
	return d, nil
}

// open validates cfg, opens and configures both substreams, but starts
// nothing.
func open(cfg Config) (*Device, error) {
	if cfg.Rate == 0 {
		cfg.Rate = Rate8k
	}
	if cfg.Channels == 0 {
		cfg.Channels = 1
	}
	if cfg.Card == "" {
		cfg.Card = "0"
	}
	if cfg.Kernel == nil {
		cfg.Kernel = LinuxKernel{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.Rate != Rate8k && cfg.Rate != Rate16k:
		return nil, fmt.Errorf("%w: rate %d, want %d or %d", ErrConfig, cfg.Rate, Rate8k, Rate16k)
	case cfg.Channels < 1 || cfg.Channels > MaxChannels:
		return nil, fmt.Errorf("%w: %d channels, want 1…%d", ErrConfig, cfg.Channels, MaxChannels)
	case cfg.Periods != 0 && (cfg.Periods < MinPeriods || cfg.Periods > MaxPeriods):
		return nil, fmt.Errorf("%w: %d periods, want %d…%d", ErrConfig, cfg.Periods, MinPeriods, MaxPeriods)
	case cfg.Device < 0:
		return nil, fmt.Errorf("%w: device %d", ErrConfig, cfg.Device)
	case cfg.Playout != 0 && (cfg.Playout < hal.PlayoutMin || cfg.Playout > hal.FrameDuration):
		return nil, fmt.Errorf("%w: playout %v, want %v…%v", ErrConfig, cfg.Playout, hal.PlayoutMin, hal.FrameDuration)
	}
	if cfg.Playout == 0 {
		cfg.Playout = hal.FrameDuration
	}
	card, err := cfg.Kernel.CardIndex(cfg.Card)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("hw:%d,%d", card, cfg.Device)
	d := &Device{
		log:      cfg.Logger.With("pcm", name),
		period:   cfg.Rate * int(hal.FrameDuration/time.Millisecond) / 1000,
		channels: cfg.Channels,
		playout:  cfg.Playout,
		lead:     cfg.Rate * int(cfg.Playout/time.Microsecond) / 1e6,
		kick:     make(chan struct{}, 1),
		timer:    time.NewTimer(time.Hour),
		done:     make(chan struct{}),
	}
	d.timer.Stop()
	d.params = Params{Card: card, Device: cfg.Device, Rate: cfg.Rate, Channels: cfg.Channels, PeriodFrames: d.period}
	if d.play, err = cfg.Kernel.OpenPCM(card, cfg.Device, false); err != nil {
		return nil, fmt.Errorf("alsa: %s playback: %w", name, err)
	}
	if d.capt, err = cfg.Kernel.OpenPCM(card, cfg.Device, true); err != nil {
		d.play.Close()
		return nil, fmt.Errorf("alsa: %s capture: %w", name, err)
	}
	if err := d.configure(cfg); err != nil {
		d.closeStreams()
		return nil, fmt.Errorf("alsa: %s: %w", name, err)
	}
	d.cbuf = make([]int16, d.period*d.channels)
	d.pbuf = make([]int16, d.period*d.channels)
	d.slots.Store(&slotTable{idle: make([]int16, d.channels)})
	d.log.Info("PCM device configured", "rate", d.params.Rate, "channels", d.params.Channels,
		"period", d.params.PeriodFrames, "periods", d.params.Periods, "linked", d.params.Linked,
		"protocol", d.params.Protocol)
	return d, nil
}

// configure checks the protocol version, negotiates the hardware and
// software parameters of both directions and links them.
func (d *Device) configure(cfg Config) error {
	v, err := d.play.Version()
	if err != nil {
		return err
	}
	if pcmVersion(v).major() != 2 {
		return fmt.Errorf("%w: %v", ErrVersion, pcmVersion(v))
	}
	d.params.Protocol = pcmVersion(v).String()
	want := request{rate: cfg.Rate, channels: cfg.Channels, period: d.period, periods: cfg.Periods}
	periods := 0
	for _, s := range []struct {
		dir string
		sub Substream
	}{{"playback", d.play}, {"capture", d.capt}} {
		got, err := negotiate(s.sub, want)
		if err != nil {
			return fmt.Errorf("%s: %w", s.dir, err)
		}
		// Both directions get the same buffer, so that a linked pair
		// behaves alike: the capture side follows what playback got.
		want.periods, periods = got, got
		sw := SWParams{
			PeriodStep:    1,
			AvailMin:      uint(d.period),
			StopThreshold: uint(d.period * got),
			// Never start by itself: the loop starts both streams
			// together after queueing silence.
			StartThreshold: boundary(uint(d.period * got)),
			Proto:          v,
		}
		if err := s.sub.SetSoftware(&sw); err != nil {
			return fmt.Errorf("%s: %w", s.dir, err)
		}
	}
	d.params.Periods = periods
	if err := d.play.Link(d.capt); err != nil {
		// Unlinked streams still work; they are started one after the
		// other and their periods may be a few samples apart.
		d.log.Warn("capture and playback not linked; starting them separately", "err", err)
	} else {
		d.params.Linked = true
	}
	return nil
}

// request is what a Device asks of one substream.
type request struct {
	rate, channels, period int
	periods                int // 0: as many as allowed up to MaxPeriods
}

// negotiate refines a parameter space holding exactly what req asks for
// (periods within MinPeriods…MaxPeriods unless fixed), pins the number of
// periods, installs the result and checks that the kernel kept every
// value. It returns the number of periods. When the hardware refuses, the
// error names each requested value the hardware cannot do, next to what
// it can.
func negotiate(s Substream, req request) (int, error) {
	var p HWParams
	constrain(&p, req)
	if err := s.Refine(&p); err != nil {
		return 0, explain(s, req, err)
	}
	pi := *p.Interval(ParamPeriods)
	periods := req.periods
	if periods == 0 {
		periods = int(min(pi.High(), MaxPeriods))
	}
	if periods < int(pi.Low()) || periods > int(pi.High()) || periods < MinPeriods {
		return 0, fmt.Errorf("%w: %d periods of %d frames; hardware allows %v periods", ErrParams, periods, req.period, pi)
	}
	p.Interval(ParamPeriods).Fix(uint32(periods))
	p.Interval(ParamBufferSize).Fix(uint32(periods * req.period))
	p.RMask = ^uint32(0)
	if err := s.Install(&p); err != nil {
		return 0, explain(s, req, err)
	}
	for _, c := range []struct {
		param Param
		want  int
	}{
		{ParamChannels, req.channels}, {ParamRate, req.rate}, {ParamPeriodSize, req.period},
		{ParamPeriods, periods}, {ParamBufferSize, periods * req.period},
	} {
		if v, ok := p.Interval(c.param).Single(); !ok || int(v) != c.want {
			return 0, fmt.Errorf("%w: asked for %s %d, the driver installed %v", ErrParams, c.param, c.want, *p.Interval(c.param))
		}
	}
	if !p.Mask(ParamAccess).Has(AccessRWInterleaved) || !p.Mask(ParamFormat).Has(FormatS16LE) {
		return 0, fmt.Errorf("%w: the driver installed another access or format than interleaved S16_LE", ErrParams)
	}
	return periods, nil
}

// constrain fills p with the parameter space req describes.
func constrain(p *HWParams, req request) {
	p.Any()
	p.Mask(ParamAccess).Only(AccessRWInterleaved)
	p.Mask(ParamFormat).Only(FormatS16LE)
	p.Mask(ParamSubformat).Only(SubformatStd)
	p.Interval(ParamSampleBits).Fix(16)
	p.Interval(ParamFrameBits).Fix(uint32(16 * req.channels))
	p.Interval(ParamChannels).Fix(uint32(req.channels))
	p.Interval(ParamRate).Fix(uint32(req.rate))
	p.Interval(ParamPeriodSize).Fix(uint32(req.period))
	if req.periods != 0 {
		p.Interval(ParamPeriods).Fix(uint32(req.periods))
	} else {
		p.Interval(ParamPeriods).Range(MinPeriods, MaxPeriods)
	}
}

// explain turns a refused refinement into an error that says which
// requested values the hardware lacks: it asks the hardware for its whole
// parameter space and compares.
func explain(s Substream, req request, cause error) error {
	var any HWParams
	any.Any()
	if err := s.Refine(&any); err != nil {
		return fmt.Errorf("%w: %w", ErrParams, cause)
	}
	var why []error
	if !any.Mask(ParamAccess).Has(AccessRWInterleaved) {
		why = append(why, errors.New("no interleaved read/write access"))
	}
	if !any.Mask(ParamFormat).Has(FormatS16LE) {
		why = append(why, errors.New("no S16_LE sample format"))
	}
	for _, c := range []struct {
		param Param
		v     int
	}{{ParamChannels, req.channels}, {ParamRate, req.rate}, {ParamPeriodSize, req.period}} {
		iv := *any.Interval(c.param)
		if uint32(c.v) < iv.Low() || uint32(c.v) > iv.High() {
			why = append(why, fmt.Errorf("%s %d not in %v", c.param, c.v, iv))
		}
	}
	pi := *any.Interval(ParamPeriods)
	lo, hi := uint32(MinPeriods), uint32(MaxPeriods)
	if req.periods != 0 {
		lo, hi = uint32(req.periods), uint32(req.periods)
	}
	if hi < pi.Low() || lo > pi.High() {
		why = append(why, fmt.Errorf("periods %d…%d not in %v", lo, hi, pi))
	}
	if len(why) == 0 {
		return fmt.Errorf("%w: the combination is refused (%w)", ErrParams, cause)
	}
	return fmt.Errorf("%w: %w", ErrParams, errors.Join(why...))
}

// Params returns the configuration the hardware accepted.
func (d *Device) Params() Params { return d.params }

// Stats returns the device's xrun counters.
func (d *Device) Stats() Stats {
	return Stats{PlaybackXruns: d.playXruns.Load(), CaptureXruns: d.captXruns.Load(), Restarts: d.restarts.Load()}
}

// Err returns why the device's loop stopped on its own, or nil while it
// runs or after an orderly Close.
func (d *Device) Err() error {
	select {
	case <-d.done:
		return d.err
	default:
		return nil
	}
}

// run is the device's clock: one cycle per captured period until the
// device closes or fails for good.
func (d *Device) run(ctx context.Context) {
	defer close(d.done)
	failures := 0
	for ctx.Err() == nil && !d.closing.Load() {
		err := d.cycle()
		if err == nil {
			failures = 0
			continue
		}
		if ctx.Err() != nil || d.closing.Load() {
			return
		}
		if !errors.Is(err, ErrXrun) && !errors.Is(err, ErrSuspended) {
			failures++
			d.log.Warn("PCM cycle failed", "err", err, "failures", failures)
			if failures >= maxFailures {
				d.err = fmt.Errorf("%w after %d failures: %w", ErrStopped, failures, err)
				d.log.Error("PCM device stopped", "err", err)
				return
			}
		}
		if err := d.restart(); err != nil && !d.closing.Load() {
			d.err = fmt.Errorf("%w: restart: %w", ErrStopped, err)
			d.log.Error("PCM device stopped", "err", err)
			return
		}
		d.restarts.Add(1)
	}
}

// cycle moves one period each way: it waits for a captured period, hands
// each slot its frame, and plays a period made of what the slots queued.
func (d *Device) cycle() error {
	for got := 0; got < d.period; {
		n, err := d.capt.ReadFrames(d.cbuf[got*d.channels:], d.period-got)
		if err != nil {
			if errors.Is(err, ErrXrun) {
				d.captXruns.Add(1)
				d.log.Debug("capture overrun")
			}
			return err
		}
		got += n
	}
	start := time.Now()
	t := d.slots.Load()
	for _, s := range t.slots {
		s.capture(d.cbuf, d.channels)
	}
	d.awaitSlots(t, start)
	d.idle(t)
	for _, s := range t.slots {
		s.playback(d.pbuf, d.channels)
	}
	return d.write()
}

// idle fills the playback period with each channel's idle sample.
func (d *Device) idle(t *slotTable) {
	for i := 0; i < len(d.pbuf); i += d.channels {
		copy(d.pbuf[i:i+d.channels], t.idle)
	}
}

// awaitSlots waits, until d.playout − 1 ms after start, for every slot that
// writes to have a frame queued: the answer to the capture just handed
// out, which then plays d.playout after the period began rather than a
// period later.
func (d *Device) awaitSlots(t *slotTable, start time.Time) {
	deadline := start.Add(d.playout - time.Millisecond)
	for !t.queued() {
		wait := time.Until(deadline)
		if wait <= 0 {
			return
		}
		d.timer.Reset(wait)
		select {
		case <-d.kick:
			d.timer.Stop()
		case <-d.timer.C:
			return
		}
	}
}

// queued reports whether every slot that writes has answered the capture
// just handed out.
func (t *slotTable) queued() bool {
	for _, s := range t.slots {
		if s.writing.Load() && !s.answered() {
			return false
		}
	}
	return true
}

// write plays the playback period.
func (d *Device) write() error { return d.writeFrames(d.period) }

// writeFrames plays the first frames frames of the playback period.
func (d *Device) writeFrames(frames int) error {
	for put := 0; put < frames; {
		n, err := d.play.WriteFrames(d.pbuf[put*d.channels:], frames-put)
		if err != nil {
			if errors.Is(err, ErrXrun) {
				d.playXruns.Add(1)
				d.log.Debug("playback underrun")
			}
			return err
		}
		put += n
	}
	return nil
}

// restart stops both streams, prepares them, queues a period and
// d.playout of idle samples for playback and starts them: the way out of
// an xrun, and the first start.
func (d *Device) restart() error {
	// Dropping a stream that is not running fails harmlessly; a running
	// one (the direction that did not xrun, on unlinked streams) must be
	// stopped before it can be prepared.
	d.play.Drop()
	d.capt.Drop()
	if err := d.play.Prepare(); err != nil {
		return err
	}
	if err := d.capt.Prepare(); err != nil {
		return err
	}
	d.idle(d.slots.Load())
	if err := d.write(); err != nil {
		return err
	}
	if err := d.writeFrames(d.lead); err != nil {
		return err
	}
	if err := d.play.Start(); err != nil {
		return err
	}
	if !d.params.Linked {
		return d.capt.Start()
	}
	return nil
}

// SlotPCM is the stream of one slot: a hal.PCM that also counts the
// captured frames it lost.
type SlotPCM interface {
	hal.PCM
	// Overruns counts captured frames lost: dropped because the reader was
	// more than 40 ms behind, plus the device's capture xruns.
	Overruns() uint64
}

// Slot returns the stream of one TDM slot of the device. Each slot can be
// taken once; closing the returned stream frees it.
func (d *Device) Slot(s Slot) (SlotPCM, error) {
	if err := s.validate(d.channels, d.params.Rate); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closing.Load() {
		return nil, ErrClosed
	}
	old := d.slots.Load()
	for _, o := range old.slots {
		if o.slot.overlaps(s) {
			return nil, fmt.Errorf("%w: %v overlaps %v", ErrSlotInUse, s, o.slot)
		}
	}
	p := newSlotPCM(d, s, d.params.Rate, d.period)
	d.publish(append(old.slots[:len(old.slots):len(old.slots)], p))
	return p, nil
}

// release removes a closed slot from the loop.
func (d *Device) release(p *slotPCM) {
	d.mu.Lock()
	defer d.mu.Unlock()
	old := d.slots.Load()
	var keep []*slotPCM
	for _, o := range old.slots {
		if o != p {
			keep = append(keep, o)
		}
	}
	d.publish(keep)
}

// publish installs a new slot table, with idle samples derived from the
// slots' codings. Callers hold d.mu.
func (d *Device) publish(slots []*slotPCM) {
	t := &slotTable{slots: slots, idle: make([]int16, d.channels)}
	for _, s := range slots {
		if sil, ok := s.slot.Coding.silence(); ok {
			// A byte slot's neighbour is taken to use the same law.
			t.idle[s.slot.Channel] = int16(uint16(sil)<<8 | uint16(sil))
		}
	}
	d.slots.Store(t)
}

// stop ends the loop: it wakes a blocked transfer by dropping the streams
// until the loop has noticed.
func (d *Device) stop() {
	d.closing.Store(true)
	if !d.running {
		return
	}
	for {
		d.capt.Drop()
		d.play.Drop()
		select {
		case <-d.done:
			return
		case <-time.After(hal.FrameDuration):
		}
	}
}

// Close stops the loop, closes every slot and releases both substreams.
func (d *Device) Close() error {
	d.closeOnce.Do(func() {
		d.stop()
		if d.cancel != nil {
			d.cancel()
		}
		d.mu.Lock()
		t := d.slots.Load()
		d.mu.Unlock()
		for _, s := range t.slots {
			s.shut()
		}
		d.closeErr = d.closeStreams()
	})
	return d.closeErr
}

func (d *Device) closeStreams() error {
	return errors.Join(d.capt.Close(), d.play.Close())
}
