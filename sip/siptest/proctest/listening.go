package proctest

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// UDPBound reports whether some socket is bound to UDP port on 127.0.0.1
// (or on all IPv4 addresses), from the kernel's /proc/net/udp. Unlike
// trying to bind the port, asking does not hold it for a moment, so it
// cannot make a peer starting at the same time fail with "address
// already in use".
func UDPBound(port int) (bool, error) {
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		return false, fmt.Errorf("proctest: %w", err)
	}
	defer f.Close()
	want := []string{fmt.Sprintf("0100007F:%04X", port), fmt.Sprintf("00000000:%04X", port)}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && (fields[1] == want[0] || fields[1] == want[1]) {
			return true, nil
		}
	}
	return false, sc.Err()
}
