package ua

import (
	"math/rand/v2"
)

// newTestRand returns a seeded uniform source for statistical tests.
func newTestRand() func() float64 {
	r := rand.New(rand.NewPCG(1, 2))
	return r.Float64
}
