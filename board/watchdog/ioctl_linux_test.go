//go:build linux

package watchdog

import "testing"

func TestIoctlNumbers(t *testing.T) {
	if wdiocKeepalive != 0x80045705 || wdiocGetTimeout != 0x80045707 {
		t.Errorf("WDIOC_KEEPALIVE %#x, WDIOC_GETTIMEOUT %#x; want 0x80045705, 0x80045707", wdiocKeepalive, wdiocGetTimeout)
	}
}
