// Package fax detects the tones that open a fax or modem call, so that a
// line can stop treating the call as voice: the calling tone CNG of the
// calling fax terminal (ITU-T T.30 §5.2: 1100 Hz ±38 Hz, on for 0.5 s,
// off for 3 s), and the answer tone of the called side, 2100 Hz ±15 Hz,
// named CED in T.30 and ANS in ITU-T V.25. The answer tone comes in four
// forms: plain ANS; ANS with phase reversals every 450 ms (V.25), the form
// that must disable echo cancellers (ITU-T G.164, G.165, G.168), where a
// plain 2100 Hz tone only disables echo suppressors; ANSam, amplitude
// modulated by 15 Hz at 20 % (V.8); and ANSam with phase reversals. The
// Detector reports the tone and, once it has seen them, the reversals and
// the modulation.
//
// # Method
//
// Each tone frequency has a channel that mixes the signal down with a
// complex oscillator at the nominal frequency and sums 5 ms blocks (40
// samples): the block sum z is the tone's phasor. 1100 and 2100 Hz are 11
// and 21 cycles in 80 samples, so the oscillator is an 80-entry table in
// Q14 and the sums are exact int64 arithmetic, as is the block energy. A
// block is a hit when its level is at least MinLevel and the phasor holds
// at least 70 % of the block's energy (a pure tone within ±40 Hz of the
// nominal frequency; two DTMF tones, speech, noise hold much less).
//
// The frequency offset is the mean rotation of the phasor from block to
// block. For 2100 Hz it is measured on z², whose phase ignores the 180°
// steps of phase reversals: the offset must lie within ±20 Hz (V.25 allows
// ±15 Hz; the rest is margin for the measurement). For 1100 Hz it is
// measured on z and must lie within ±45 Hz (T.30: ±38 Hz). Tones further
// off fail either the frequency or the energy test; the tests pin this.
//
// CED is reported when 2100 Hz has lasted CEDDuration (350 ms), about 355
// ms after its onset. A phase reversal is a 180° step (more than 120°)
// between the phasors two blocks apart once the measured frequency offset
// is taken out; ANSReversal is reported for the first one of a tone, after
// CED. ANSam is reported when the envelope of the last 200 ms (three
// periods of 15 Hz) is modulated at 15 Hz by at least 10 %. CNG is
// reported at the end of a 1100 Hz burst of 400 to 650 ms (0.5 s ±15 %
// with margin), so one burst is enough and a continuous 1100 Hz tone is
// not CNG. Gaps of up to 15 ms inside a tone (a reversal, a lost packet)
// do not end it.
//
// The Detector takes frames of any length, keeps a few hundred bytes of
// state, and allocates nothing.
package fax
