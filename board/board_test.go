package board

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	for _, n := range []string{"sim", "rpi-si3215", "rpi-si3210", "rpi-ag1171"} {
		if !slices.Contains(Names(), n) {
			t.Errorf("Names() lacks %q", n)
		}
	}
	_, err := Open(t.Context(), "nope", Options{})
	if err == nil || !strings.Contains(err.Error(), `board "nope" is unknown; known boards: sim, rpi-si3215`) {
		t.Errorf("unknown board: %v", err)
	}
}

// TestRealBoardWithoutHardware checks that a real board, asked for on a
// machine without its hardware, fails and names what is missing instead of
// running on anything else.
func TestRealBoardWithoutHardware(t *testing.T) {
	if _, err := os.Stat("/proc/asound/tipring"); err == nil {
		t.Skip("this machine has the tipring sound card")
	}
	b, err := Open(t.Context(), "rpi-si3215", Options{})
	if err == nil {
		b.Close()
		t.Fatal("rpi-si3215 opened without its hardware")
	}
	if !strings.Contains(err.Error(), `board "rpi-si3215"`) || !strings.Contains(err.Error(), "tipring") {
		t.Errorf("error does not say what is missing: %v", err)
	}
}
