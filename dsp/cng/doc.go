// Package cng is comfort noise after RFC 3389 ("RTP Payload for Comfort
// Noise", 2002): the payload that describes background noise during
// silence suppression, an Encoder that measures it, and a Generator that
// plays it back. The RFC takes the payload from ITU-T G.711 Appendix II;
// analysis and synthesis are left to implementations and are Tipring's own.
//
// # Payload (RFC 3389 §3)
//
// Byte 0 is the noise level in -dBov, 0 to 127, its top bit always 0
// (§3.1). The bytes after it, if any, are reflection coefficients of an
// all-pole model of the noise, one byte each, first order first; their
// number is the model order, which is not transmitted otherwise, and a
// decoder may drop the higher ones (§3). Parse keeps up to MaxOrder of them.
//
// Each coefficient k in [-1, 1] is quantized uniformly to a byte b (§3.2):
//
//	k = (b − 127) / 128        b = round(128·k) + 127, clamped to 0…255
//
// so 127 is 0, 255 is +1 and 0 is −127/128. (This is the mapping the
// widely deployed implementations agree on; the text of §3.2 could not be
// re-read while this was written, so it is pinned in
// TestSection3_2CoefficientQuantization and flagged there.) The sign
// convention is that of the Levinson–Durbin recursion for the
// prediction-error filter A(z) = 1 + a₁z⁻¹ + … + aₚz⁻ᵖ, where kᵢ is the
// last coefficient of the order-i filter; low-pass noise has k₁ < 0. A
// coefficient of magnitude 1 describes an unstable filter; the Generator
// uses at most 127/128.
//
// # Level reference
//
// dBov is relative to the overload point of the codec. RFC 3389 §3.1 gives,
// for µ-law, a square wave at the largest code value as 0 dBov, and puts it
// at +6.18 dBm0: the G.711 full-scale sine of +3.17 dBm0 plus the 3.01 dB a
// square wave carries over a sine of the same peak. With the level
// reference of package dsp that is an RMS of OverloadRMS = 32636 in 16-bit
// PCM (dsp.ZeroDBm0RMS · 10^(6.18/20)), the top decision value Tmax of
// G.711 on the 16-bit scale; Tipring uses it for A-law too. So
// dBov = dBm0 − 6.18, and a level byte L is an RMS of OverloadRMS·10^(−L/20):
// 0 is overload, 127 (an RMS of 0.015) is silence in 16-bit PCM.
//
// # Encoder
//
// For each 20 ms frame the Encoder computes the autocorrelation r(0…p) in
// int64, averages it over the frames since Reset (a plain mean over the
// first eight, then an exponential average weighting the newest frame by
// 1/8, a time constant of about 150 ms), and derives the level from r(0)
// and the reflection coefficients from the Levinson–Durbin recursion on
// r(0…p), with r(0) raised by 1/1000 (−30 dB of white noise) to keep the
// recursion well conditioned. The order is chosen at NewEncoder; RFC 3389
// leaves it open and 10 (DefaultOrder) is the usual choice for 8 kHz.
//
// # Generator
//
// The Generator drives the all-pole filter 1/A(z), built from the
// reflection coefficients by the step-up recursion, with white Gaussian
// noise. A filter with reflection coefficients kᵢ turns unit-variance
// white noise into noise of variance 1/∏(1−kᵢ²), so the excitation is
// scaled by the target RMS times √∏(1−kᵢ²) and the output has the level of
// the payload whatever its spectrum. When a new payload arrives the
// excitation gain moves linearly to the new value over the next frame;
// the filter takes the new coefficients at once and keeps its memory.
//
// Encode, Generate, Parse and Append allocate nothing.
package cng
