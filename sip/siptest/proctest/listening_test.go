package proctest

import (
	"net"
	"testing"
)

func TestUDPBound(t *testing.T) {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	if ok, err := UDPBound(port); err != nil || !ok {
		t.Fatalf("bound port %d: %v, %v", port, ok, err)
	}
	c.Close()
	if ok, err := UDPBound(port); err != nil || ok {
		t.Fatalf("closed port %d: %v, %v", port, ok, err)
	}
}
