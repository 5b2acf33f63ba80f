package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"parley"
)

// KnownServices are the host names (and, with a leading dot, the domains)
// of the push services browsers use: a subscription on one of them is taken
// without asking anything of it (docs/protocol.md, "Push").
var KnownServices = []string{
	"fcm.googleapis.com",         // Chrome, Brave, Opera, Samsung Internet
	"android.googleapis.com",     // older Chrome subscriptions
	"push.services.mozilla.com",  // Firefox (autopush)
	".push.services.mozilla.com", // updates.push.services.mozilla.com
	".push.apple.com",            // Safari (web.push.apple.com)
	".notify.windows.com",        // Edge on Windows (WNS)
}

// Guard decides which endpoints the server may send pushes to, and dials
// only addresses that are allowed: https on a known push service or on a
// UnifiedPush server that answers its discovery request, never a private,
// loopback, link-local or metadata address, except the host:port pairs an
// operator allows (--push-allowed-hosts), which may also be plain http.
type Guard struct {
	allowed map[string]bool // host:port, lower case
	dialer  net.Dialer
	// discover answers a UnifiedPush discovery GET (its own client: it
	// follows no redirect and dials through the guard).
	discover *http.Client
}

// NewGuard returns a guard allowing the given host:port pairs besides the
// public push services.
func NewGuard(allowedHosts []string) (*Guard, error) {
	g := &Guard{allowed: map[string]bool{}}
	for _, h := range allowedHosts {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" || port == "" {
			return nil, fmt.Errorf("push allowed host %q: give host:port", h)
		}
		g.allowed[net.JoinHostPort(strings.ToLower(host), port)] = true
	}
	g.dialer = net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	tr := g.Transport(2)
	tr.DisableKeepAlives = true
	g.discover = &http.Client{Transport: tr, Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return g, nil
}

// Allowed reports whether host:port is one the operator allowed.
func (g *Guard) Allowed(hostport string) bool { return g.allowed[strings.ToLower(hostport)] }

// known reports whether host is one of the KnownServices.
func known(host string) bool {
	host = strings.ToLower(host)
	for _, k := range KnownServices {
		if host == k || strings.HasPrefix(k, ".") && strings.HasSuffix(host, k) {
			return true
		}
	}
	return false
}

// refused reports why an address may not be dialed ("" if it may).
func refused(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local" // 169.254.169.254, the cloud metadata address, is one
	case ip.IsUnspecified(), ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "not unicast"
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return "reserved"
		}
	}
	return ""
}

// blocked are further ranges no push service lives in: carrier-grade NAT,
// IETF protocol assignments, benchmarking, documentation, the IPv4 broadcast
// and reserved block, NAT64's well-known prefix (which maps to IPv4 that
// would escape these checks), and the metadata address AWS gives on IPv6.
var blocked = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "64:ff9b::/96", "64:ff9b:1::/48", "2001:db8::/32",
		"fd00:ec2::254/128", "100::/64"} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// ErrRefusedAddress is the error of a dial to an address the guard refuses.
var ErrRefusedAddress = errors.New("push: refused address")

// DialContext dials addr (host:port) if it is allowed, or if every address
// it resolves to is public; it checks the address it connects to at the
// moment of connecting, so a name that resolves differently later (DNS
// rebinding) gains nothing.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if g.Allowed(addr) {
		return g.dialer.DialContext(ctx, network, addr)
	}
	d := g.dialer
	d.Control = func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrRefusedAddress, address)
		}
		if why := refused(ap.Addr()); why != "" {
			return fmt.Errorf("%w: %s is %s", ErrRefusedAddress, addr, why)
		}
		return nil
	}
	return d.DialContext(ctx, network, addr)
}

// Transport returns an HTTP transport that dials through the guard, uses no
// proxy and keeps at most perHost connections to each host.
func (g *Guard) Transport(perHost int) *http.Transport {
	return &http.Transport{
		DialContext:           g.DialContext,
		Proxy:                 nil,
		ForceAttemptHTTP2:     true,
		MaxConnsPerHost:       perHost,
		MaxIdleConnsPerHost:   perHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 20 * time.Second,
	}
}

// CheckEndpoint says whether the server may send pushes to endpoint: an
// invalid-field error saying why not, else nil. An endpoint on neither a
// known push service nor an allowed host must answer a UnifiedPush
// discovery GET ({"unifiedpush":{"version":1}}); beforeDiscovery, if not
// nil, is asked first and its error returned instead (a rate limit).
func (g *Guard) CheckEndpoint(ctx context.Context, endpoint string, beforeDiscovery func() error) error {
	bad := func(format string, args ...any) error { return parley.FieldErrorf("endpoint", format, args...) }
	if len(endpoint) > parley.PushEndpointMax {
		return bad("The endpoint may be at most %d bytes.", parley.PushEndpointMax)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || !u.IsAbs() {
		return bad("The endpoint must be an https URL.")
	}
	if u.User != nil || u.Fragment != "" {
		return bad("The endpoint must not carry a user name or a fragment.")
	}
	hostport := parley.PushHost(endpoint)
	if g.Allowed(hostport) {
		if u.Scheme != "https" && u.Scheme != "http" {
			return bad("The endpoint must be an https URL.")
		}
		return nil
	}
	if u.Scheme != "https" {
		return bad("The endpoint must be an https URL.")
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := refused(ip); why != "" {
			return bad("The endpoint's address is %s: refused.", why)
		}
	}
	if known(host) {
		return nil
	}
	if beforeDiscovery != nil {
		if err := beforeDiscovery(); err != nil {
			return err
		}
	}
	return g.discoverUnifiedPush(ctx, endpoint)
}

// discoverUnifiedPush asks endpoint whether it is a UnifiedPush server.
func (g *Guard) discoverUnifiedPush(ctx context.Context, endpoint string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return parley.FieldErrorf("endpoint", "The endpoint must be an https URL.")
	}
	resp, err := g.discover.Do(req)
	if err != nil {
		if errors.Is(err, ErrRefusedAddress) {
			return parley.FieldErrorf("endpoint", "The endpoint's host resolves to an address that is refused (private, loopback, link-local or reserved).")
		}
		return parley.FieldErrorf("endpoint", "The endpoint is not on a known push service and could not be asked whether it is a UnifiedPush server.")
	}
	defer resp.Body.Close()
	var disc struct {
		UnifiedPush struct {
			Version int `json:"version"`
		} `json:"unifiedpush"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &disc) != nil || disc.UnifiedPush.Version < 1 {
		return parley.FieldErrorf("endpoint", "The endpoint is not on a known push service and did not answer as a UnifiedPush server.")
	}
	return nil
}
