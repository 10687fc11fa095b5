package ua

import (
	"net"
	"net/netip"
)

// The directions an AgentConfig.Tap is called with (the same values as
// media.TapReceived and media.TapSent).
const (
	TapReceived = 0
	TapSent     = 1
)

// addrPort returns a's address and port, or the zero value.
func addrPort(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch v := a.(type) {
	case *net.UDPAddr:
		ap = v.AddrPort()
	case *net.TCPAddr:
		ap = v.AddrPort()
	default:
		if a != nil {
			ap, _ = netip.ParseAddrPort(a.String())
		}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// tapPacketConn shows every SIP datagram sipgo reads or writes on the
// agent's UDP socket to the tap.
type tapPacketConn struct {
	net.PacketConn
	tap   func(dir int, local, remote netip.AddrPort, pkt []byte)
	local netip.AddrPort
}

func (c *tapPacketConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.PacketConn.ReadFrom(b)
	if n > 0 && from != nil {
		c.tap(TapReceived, c.local, addrPort(from), b[:n])
	}
	return n, from, err
}

func (c *tapPacketConn) WriteTo(b []byte, to net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(b, to)
	if n > 0 {
		c.tap(TapSent, c.local, addrPort(to), b[:n])
	}
	return n, err
}

// tapConn shows what sipgo reads and writes on a TCP or TLS connection
// (after decryption) to the tap, one read or write at a time: a chunk
// may hold part of a message or several.
type tapConn struct {
	net.Conn
	tap           func(dir int, local, remote netip.AddrPort, pkt []byte)
	local, remote netip.AddrPort
}

func newTapConn(c net.Conn, tap func(int, netip.AddrPort, netip.AddrPort, []byte)) net.Conn {
	if tap == nil {
		return c
	}
	return &tapConn{Conn: c, tap: tap, local: addrPort(c.LocalAddr()), remote: addrPort(c.RemoteAddr())}
}

func (c *tapConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.tap(TapReceived, c.local, c.remote, b[:n])
	}
	return n, err
}

func (c *tapConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.tap(TapSent, c.local, c.remote, b[:n])
	}
	return n, err
}

// tapListener wraps each accepted connection in a tapConn.
type tapListener struct {
	net.Listener
	tap func(int, netip.AddrPort, netip.AddrPort, []byte)
}

func (l *tapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	return newTapConn(c, l.tap), nil
}
