package push

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
)

// TestGuardDial: the check happens when connecting, on the address
// connected to, so a name resolving to loopback is refused like the
// address, and only an allowed host:port escapes it.
func TestGuardDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	g, err := NewGuard(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{ln.Addr().String(), "localhost:" + port} {
		if _, err := g.DialContext(context.Background(), "tcp", addr); !errors.Is(err, ErrRefusedAddress) {
			t.Errorf("dial %s: %v, want refused", addr, err)
		}
	}
	g, err = NewGuard([]string{ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial an allowed host: %v", err)
	}
	c.Close()
	if _, err := NewGuard([]string{"no-port"}); err == nil {
		t.Errorf("an allowed host without a port was taken")
	}
}

func TestRefusedAddresses(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.100.100.200",
		"0.0.0.0", "::1", "fe80::1", "fc00::1", "fd00:ec2::254", "::ffff:10.0.0.1", "64:ff9b::a00:1", "224.0.0.1", "255.255.255.255"} {
		if refused(netip.MustParseAddr(s)) == "" {
			t.Errorf("%s is not refused", s)
		}
	}
	for _, s := range []string{"142.250.180.10", "2a00:1450:4001:80b::200a", "8.8.8.8"} {
		if why := refused(netip.MustParseAddr(s)); why != "" {
			t.Errorf("%s refused: %s", s, why)
		}
	}
}

func TestKnownServices(t *testing.T) {
	for _, h := range []string{"fcm.googleapis.com", "updates.push.services.mozilla.com", "web.push.apple.com", "wns2-db5p.notify.windows.com"} {
		if !known(h) {
			t.Errorf("%s not known", h)
		}
	}
	for _, h := range []string{"evilpush.apple.com.example", "fcm.googleapis.com.evil.example", "xpush.apple.com", "notify.windows.com.evil"} {
		if known(h) {
			t.Errorf("%s taken as known", h)
		}
	}
}
