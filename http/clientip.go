package http

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// DefaultTrustedProxies are the proxies believed when none are configured:
// a balancer on the same machine.
const DefaultTrustedProxies = "127.0.0.0/8,::1/128"

// ParseTrustedProxies reads a comma-separated list of CIDRs (or single
// addresses). An empty list trusts no proxy.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	out := []netip.Prefix{}
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("%q is not a CIDR (like 10.0.0.0/8) or an address", s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// proxies are the addresses whose X-Forwarded-For and X-Forwarded-Proto
// are believed.
type proxies []netip.Prefix

func (p proxies) trusted(a netip.Addr) bool {
	for _, pr := range p {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address a request came from. When the peer is a
// trusted proxy, X-Forwarded-For is read from the right: each proxy appends
// the address it got the request from, so the rightmost address that is
// not a trusted proxy is the client. Everything left of it was written by
// the client and proves nothing; the leftmost entry is never believed for
// that reason. An entry that is not an address ends the walk.
func (p proxies) clientAddr(r *http.Request) netip.Addr {
	client := peerAddr(r)
	if !client.IsValid() || !p.trusted(client) {
		return client
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = a
		if !p.trusted(a) {
			break
		}
	}
	return client
}

// https reports whether the client reached the server over TLS: directly,
// or through a trusted proxy that says so in X-Forwarded-Proto.
func (p proxies) https(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !p.trusted(peerAddr(r)) {
		return false
	}
	protos := strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(protos[len(protos)-1]), "https")
}

func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		a, _ := netip.ParseAddr(r.RemoteAddr)
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a
// port ("192.0.2.1:4711", "[2001:db8::1]:4711").
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone("").Unmap(), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.WithZone("").Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// clientIP is the client's address as text (see clientAddr).
func (s *Server) clientIP(r *http.Request) string {
	if a := s.proxies.clientAddr(r); a.IsValid() {
		return a.String()
	}
	return r.RemoteAddr
}
