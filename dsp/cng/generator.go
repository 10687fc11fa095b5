package cng

import (
	"math"
	"math/rand/v2"

	"github.com/tipring/tipring/dsp"
)

// maxK is the largest reflection coefficient magnitude the Generator uses:
// the largest the payload quantizes below 1.
const maxK = 127.0 / 128

// Generator synthesizes comfort noise from RFC 3389 payloads. It is not
// safe for concurrent use.
type Generator struct {
	rng        *rand.Rand
	order      int
	a          [MaxOrder + 1]float64 // 1/A(z), a[0] = 1
	mem        [MaxOrder]float64     // past outputs, newest first
	gain, next float64               // excitation gain now and after this frame
	started    bool
}

// NewGenerator returns a silent Generator whose noise is seeded by seed.
func NewGenerator(seed uint64) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// SetPayload makes p the noise to generate from the next frame on.
func (g *Generator) SetPayload(p *Payload) {
	order := min(max(p.Order, 0), MaxOrder)
	var a, prev [MaxOrder + 1]float64
	a[0] = 1
	prod := 1.0
	for i := 1; i <= order; i++ {
		k := p.K[i-1]
		if !(k >= -maxK) { // and NaN
			k = -maxK
		}
		k = min(k, maxK)
		prev = a
		for j := 1; j < i; j++ {
			a[j] = prev[j] + k*prev[i-j]
		}
		a[i] = k
		prod *= 1 - k*k
	}
	g.a, g.order = a, order
	level := min(max(p.Level, 0), MaxLevel)
	g.next = RMSFromLevel(level) * math.Sqrt(prod)
	if level == MaxLevel {
		g.next = 0
	}
	if !g.started {
		g.gain, g.started = g.next, true
	}
}

// Decode parses an RFC 3389 payload and makes it the noise to generate.
func (g *Generator) Decode(b []byte) error {
	p, err := Parse(b)
	if err != nil {
		return err
	}
	g.SetPayload(&p)
	return nil
}

// Generate fills a frame with comfort noise; silence before the first
// payload.
func (g *Generator) Generate(frame *[dsp.FrameSamples]int16) {
	step := (g.next - g.gain) / dsp.FrameSamples
	for i := range frame {
		g.gain += step
		y := g.gain * g.rng.NormFloat64()
		for j := 1; j <= g.order; j++ {
			y -= g.a[j] * g.mem[j-1]
		}
		if g.order > 0 {
			copy(g.mem[1:g.order], g.mem[:g.order-1])
			g.mem[0] = y
		}
		frame[i] = dsp.Saturate(y)
	}
	g.gain = g.next
}

func sqrt(x float64) float64 { return math.Sqrt(max(x, 0)) }
