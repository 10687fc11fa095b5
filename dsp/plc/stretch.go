package plc

// StretchGuard is how much of the end of the history Stretch does not
// repeat (5 ms): see Stretch.
const StretchGuard = 40

// spliceLen is the crossfade that joins the made-up frame to the history
// (2 ms).
const spliceLen = 16

// Stretch fills dst with 20 ms of made-up audio to be played between the
// end of hist (the last HistorySamples of a stream, oldest first) and what
// comes next: it lengthens the stream by a frame without a gap, as a
// sender does when it moves from sending each frame at once to sending it
// one frame late.
//
// The frame repeats a pitch period of hist (found as for a loss) that
// ends StretchGuard samples before hist does: whatever began in those last
// 5 ms (the start of a DTMF tone a receiver has not recognised yet, say)
// is not repeated into a longer burst. Its first 2 ms crossfade from the
// continuation of hist's own last period, so that it carries on from
// hist's last sample; over its last period it fades into a copy of hist's
// last samples, so that its last sample is hist's last and the stream's
// next sample follows it as it followed hist. Speech gets a vowel held
// 20 ms longer, noise more of the same noise. It does not allocate.
func Stretch(dst *[FrameSamples]int16, hist *[HistorySamples]int16) {
	const l = HistorySamples
	var src [HistorySamples]int16 // hist without its last StretchGuard samples, shifted to end at l
	copy(src[StretchGuard:], hist[:l-StretchGuard])
	p := findPitch(&src)
	// In phase with hist's own continuation: the periodic extension of
	// src, which ends StretchGuard samples early, at sample l+n.
	for n := range dst {
		dst[n] = src[l-p+(n+StretchGuard)%p]
	}
	// The splice: from hist's own periodic continuation into the frame.
	q := findPitch(hist)
	for n := range spliceLen {
		w := float32(n+1) / float32(spliceLen+1)
		dst[n] = int16(float32(hist[l-q+n%q])*(1-w) + float32(dst[n])*w)
	}
	// Over the last p samples, weight w rises from 1/p to 1 towards the
	// copy of hist's tail, which ends on hist[l-1].
	for i := range p {
		n := FrameSamples - p + i
		w := float32(i+1) / float32(p)
		dst[n] = int16(float32(dst[n])*(1-w) + float32(hist[l-FrameSamples+n])*w)
	}
}
