package proctest

import (
	"errors"
	"io"
	mrand "math/rand/v2"
	"net"
	"strconv"
)

// FreePorts returns the first of n consecutive ports free for both TCP
// and UDP on 127.0.0.1, for a peer process to listen on.
//
// Asking the kernel for port 0 and closing the socket again, the usual
// way, leaves a window in which any socket another test opens with port 0
// can be given the same port before the peer binds it (seen in CI: SIPp's
// media port taken). So the ports are drawn from 10000–15999: below the
// kernel's ephemeral range (32768 and up on Linux), which port 0 draws
// from, and below the RTP range of package media (16384 and up).
func FreePorts(n int) (int, error) {
	for range 200 {
		port := 10000 + mrand.IntN(6000-n)
		if free(port, n) {
			return port, nil
		}
	}
	return 0, errors.New("proctest: no free ports")
}

func free(port, n int) bool {
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for p := port; p < port+n; p++ {
		addr := "127.0.0.1:" + strconv.Itoa(p)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return false
		}
		closers = append(closers, l)
		u, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		closers = append(closers, u)
	}
	return true
}
