package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// Packet is one UDP datagram of a pcap file, as ReadPCAP returns it.
type Packet struct {
	At       time.Time
	Src, Dst netip.AddrPort
	Payload  []byte
}

// ReadPCAP reads a libpcap file of LINKTYPE_RAW (or LINKTYPE_IPV4) UDP
// datagrams, such as WritePCAP writes, checking every header: it is how
// the tests look into a capture without tshark.
func ReadPCAP(r io.Reader) ([]Packet, error) {
	var hdr [24]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("pcap: header: %w", err)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	switch binary.LittleEndian.Uint32(hdr[:]) {
	case pcapMagic:
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("pcap: bad magic %x", hdr[:4])
	}
	if lt := bo.Uint32(hdr[20:]); lt != linkTypeRaw && lt != 228 {
		return nil, fmt.Errorf("pcap: link type %d, want RAW (101) or IPV4 (228)", lt)
	}
	var out []Packet
	for i := 1; ; i++ {
		var rh [16]byte
		if _, err := io.ReadFull(r, rh[:]); err == io.EOF {
			return out, nil
		} else if err != nil {
			return out, fmt.Errorf("pcap: packet %d header: %w", i, err)
		}
		incl, orig := bo.Uint32(rh[8:]), bo.Uint32(rh[12:])
		if incl > snapLen || incl > orig {
			return out, fmt.Errorf("pcap: packet %d: %d of %d bytes", i, incl, orig)
		}
		b := make([]byte, incl)
		if _, err := io.ReadFull(r, b); err != nil {
			return out, fmt.Errorf("pcap: packet %d: %w", i, err)
		}
		p := Packet{At: time.Unix(int64(bo.Uint32(rh[0:])), int64(bo.Uint32(rh[4:]))*1000)}
		var udp []byte
		switch {
		case len(b) >= 20 && b[0]>>4 == 4:
			ihl := int(b[0]&15) * 4
			if ihl < 20 || len(b) < ihl+8 || int(binary.BigEndian.Uint16(b[2:])) != len(b) || b[9] != 17 {
				return out, fmt.Errorf("pcap: packet %d: bad IPv4 header", i)
			}
			if checksum(b[:ihl]) != 0 {
				return out, fmt.Errorf("pcap: packet %d: bad IPv4 checksum", i)
			}
			s, _ := netip.AddrFromSlice(b[12:16])
			d, _ := netip.AddrFromSlice(b[16:20])
			udp = b[ihl:]
			p.Src, p.Dst = netip.AddrPortFrom(s, binary.BigEndian.Uint16(udp[0:])), netip.AddrPortFrom(d, binary.BigEndian.Uint16(udp[2:]))
		case len(b) >= 48 && b[0]>>4 == 6:
			if int(binary.BigEndian.Uint16(b[4:]))+40 != len(b) || b[6] != 17 {
				return out, fmt.Errorf("pcap: packet %d: bad IPv6 header", i)
			}
			s, _ := netip.AddrFromSlice(b[8:24])
			d, _ := netip.AddrFromSlice(b[24:40])
			udp = b[40:]
			p.Src, p.Dst = netip.AddrPortFrom(s, binary.BigEndian.Uint16(udp[0:])), netip.AddrPortFrom(d, binary.BigEndian.Uint16(udp[2:]))
		default:
			return out, fmt.Errorf("pcap: packet %d: not IPv4 or IPv6", i)
		}
		if int(binary.BigEndian.Uint16(udp[4:])) != len(udp) {
			return out, fmt.Errorf("pcap: packet %d: UDP length %d of %d", i, binary.BigEndian.Uint16(udp[4:]), len(udp))
		}
		p.Payload = udp[8:]
		out = append(out, p)
	}
}
