// Package plc conceals lost G.711 frames the way ITU-T G.711 Appendix I
// ("A high quality low-complexity algorithm for packet loss concealment
// with G.711", 1999) describes it: a lost stretch is filled by repeating
// the last pitch period of the speech heard before it, faded out, and
// merged back into the real signal when packets return. The code is
// written from the appendix's prose description, not from its reference
// code or any other implementation.
//
// # Frames, history and delay
//
// The media path hands over 20 ms frames of 160 samples; the appendix works
// in 10 ms frames, so each call is processed as two 80-sample halves and
// every rule below that counts "10 ms" counts those halves. A history of
// the last 390 samples (48.75 ms: three periods of the longest pitch,
// 120 samples, plus a quarter of one) is kept; while frames are lost the
// synthetic signal is written into it, so it always holds the signal as
// played out.
//
// Output is delayed by Delay = 30 samples (3.75 ms, a quarter of the
// longest pitch period), as in the appendix: the last 30 samples of the
// history have not been played yet when a loss is discovered, which is what
// lets the concealment cross-fade into them instead of into the past. Good
// and Lost therefore both return the signal of 30 samples earlier; a stream
// without losses comes out bit for bit, 30 samples late (the first call
// starts with 30 zeros).
//
// # The first lost 10 ms
//
// The pitch period P is searched between 40 and 120 samples (5 to 15 ms)
// by normalised cross-correlation: the last 160 samples (20 ms) of the
// history against the 160 samples P earlier, scored by the correlation
// divided by the square root of the lagged segment's energy. As in the
// appendix the search is coarse, on every second lag and every second
// sample, then fine, at full resolution within ±1 of the coarse best. One
// step is added to the appendix's search: a period whose half or third also
// scores at least 85 % of the best is replaced by that sub-multiple, so a
// voice whose period falls between integers (where two periods line up
// better than one) is reported with its true period. Energies and
// correlations are accumulated in int64.
//
// The last quarter period of the history (P/4 samples, at most 30 and so
// still unplayed) is replaced by a linear cross-fade from the history into
// the samples one period earlier; the last period of that modified history
// is then repeated for as long as the loss lasts. The synthetic waveform
// joins the history without a step and wraps around without one.
//
// # Longer losses
//
// At the start of the second lost 10 ms the repeated stretch grows to the
// last two periods, at the third to three (the appendix's remedy for the
// buzz a single repeated period makes). Each change keeps the phase within
// the period and cross-fades over P/4 samples from the old continuation to
// the one a period further back. From the second lost 10 ms on, the
// synthetic signal is attenuated by a linear ramp of 20 % per 10 ms
// (1/400 per sample), so it reaches silence at the end of the sixth lost
// 10 ms, 60 ms into the loss; after that Lost plays silence.
//
// # Recovery
//
// On the first good 10 ms after a loss the synthetic signal is carried on
// (still attenuating) and cross-faded linearly into the real one over 4 ms
// (32 samples) plus 4 ms for every further lost 10 ms, at most 10 ms
// (80 samples): 8 ms after one lost 20 ms frame, 10 ms after longer losses.
//
// # Cost
//
// A Concealer is a fixed-size value of about 2.5 KiB; Good and Lost
// allocate nothing. The pitch search, once per loss, costs about 10⁴
// multiply-adds; see the benchmarks.
package plc
