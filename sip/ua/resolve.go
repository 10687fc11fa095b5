package ua

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/tipring/tipring/sip/internal/hostport"
)

// Resolver is the DNS the agent locates registrars with (RFC 3263 §4):
// SRV records for a registrar named by a bare domain, then addresses.
// *net.Resolver implements it; tests supply their own records.
type Resolver interface {
	// LookupSRV looks up _service._proto.name, as net.Resolver.LookupSRV.
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	// LookupIPAddr looks up the A and AAAA records of host.
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// target is one place to send a request: transport, address, and the
// name a TLS server must present.
type target struct {
	transport  string // "udp", "tcp" or "tls"
	addr       netip.AddrPort
	serverName string
}

func (t target) String() string { return t.transport + ":" + t.addr.String() }

// srvService is one SRV query of RFC 3263 §4.1 and the transport it means.
type srvService struct{ service, proto, transport string }

// srvServices lists the SRV names tried for a transport, most preferred
// first; "auto" tries TLS, then TCP, then UDP.
func srvServices(transport string) []srvService {
	tls := srvService{"sips", "tcp", "tls"}
	tcp := srvService{"sip", "tcp", "tcp"}
	udp := srvService{"sip", "udp", "udp"}
	switch transport {
	case "tls":
		return []srvService{tls}
	case "tcp":
		return []srvService{tcp}
	case "udp":
		return []srvService{udp}
	}
	return []srvService{tls, tcp, udp}
}

// resolve turns a next hop (host, host:port or IP) into the ordered
// targets to try, following RFC 3263 §4 without NAPTR: an IP address is
// used as is; a name with a port is looked up for A/AAAA records; a bare
// name is looked up for SRV records first (ordered by priority, then
// weighted at random, RFC 2782) and for A/AAAA records at the transport's
// default port when it has none.
func (a *Agent) resolve(ctx context.Context, hop, transport string) ([]target, error) {
	host, port, err := hostport.Split(hop)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidAccount, err)
	}
	if transport == "auto" && port != 0 {
		transport = "udp" // RFC 3263 §4.1: a port but no transport means UDP
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if transport == "auto" {
			transport = "udp"
		}
		return []target{{transport: transport, addr: netip.AddrPortFrom(ip.Unmap(), cmp.Or(port, hostport.DefaultPort(transport))), serverName: host}}, nil
	}
	if port != 0 {
		ts, err := a.lookupHost(ctx, host, port, transport, host)
		if err != nil {
			return nil, err
		}
		return ts, nil
	}
	var out []target
	var srvErr error
	found := false
	for _, s := range srvServices(transport) {
		_, recs, err := a.cfg.Resolver.LookupSRV(ctx, s.service, s.proto, host)
		if err != nil {
			srvErr = err
			continue
		}
		for _, rec := range orderSRV(recs, a.rnd) {
			found = true
			name := strings.TrimSuffix(rec.Target, ".")
			if name == "" {
				continue // "." : the service is decidedly not available
			}
			// RFC 5922 §4.1: the certificate must name the SIP domain.
			ts, err := a.lookupHost(ctx, name, rec.Port, s.transport, host)
			if err != nil {
				a.log.Debug("SRV target unresolved", "target", name, "err", err)
				continue
			}
			out = append(out, ts...)
		}
	}
	if found {
		if len(out) == 0 {
			return nil, fmt.Errorf("%w: the SRV records of %s offer no target that resolves", ErrResolve, host)
		}
		return out, nil
	}
	if transport == "auto" {
		transport = "udp"
	}
	ts, err := a.lookupHost(ctx, host, hostport.DefaultPort(transport), transport, host)
	if err != nil && srvErr != nil {
		return nil, fmt.Errorf("%w (SRV: %w)", err, srvErr)
	}
	return ts, err
}

// lookupHost returns one target per address of host, IPv4 first.
func (a *Agent) lookupHost(ctx context.Context, host string, port uint16, transport, serverName string) ([]target, error) {
	ips, err := a.cfg.Resolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrResolve, host, err)
	}
	var ts []target
	for _, ip := range ips {
		addr, ok := netip.AddrFromSlice(ip.IP)
		if !ok {
			continue
		}
		ts = append(ts, target{transport: transport, addr: netip.AddrPortFrom(addr.Unmap(), port), serverName: serverName})
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("%w: %s has no address", ErrResolve, host)
	}
	slices.SortStableFunc(ts, func(x, y target) int {
		return cmp.Compare(boolInt(!x.addr.Addr().Is4()), boolInt(!y.addr.Addr().Is4()))
	})
	return ts, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// orderSRV orders SRV records as RFC 2782 says: by priority, and within a
// priority by repeated weighted random choice, zero weights placed first
// so that they are chosen rarely. rnd returns a uniform number in [0, 1).
func orderSRV(recs []*net.SRV, rnd func() float64) []*net.SRV {
	rest := slices.Clone(recs)
	slices.SortStableFunc(rest, func(x, y *net.SRV) int { return cmp.Compare(x.Priority, y.Priority) })
	out := make([]*net.SRV, 0, len(rest))
	for len(rest) > 0 {
		n := 1
		for n < len(rest) && rest[n].Priority == rest[0].Priority {
			n++
		}
		group := rest[:n]
		slices.SortStableFunc(group, func(x, y *net.SRV) int { return cmp.Compare(boolInt(x.Weight != 0), boolInt(y.Weight != 0)) })
		for len(group) > 0 {
			total := 0
			for _, r := range group {
				total += int(r.Weight)
			}
			pick := min(int(rnd()*float64(total+1)), total)
			i, sum := 0, 0
			for ; i < len(group)-1; i++ {
				sum += int(group[i].Weight)
				if sum >= pick {
					break
				}
			}
			out = append(out, group[i])
			group = slices.Delete(group, i, i+1)
		}
		rest = rest[n:]
	}
	return out
}
