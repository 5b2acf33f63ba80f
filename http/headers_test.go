package http_test

import (
	"net/http"
	"strings"
	"testing"

	"parley/app"
	"parley/servertest"
)

// TestSecurityHeaders: every answer, app or API, success or error, carries
// nosniff, a Content-Security-Policy (the app's lets it load only its own
// scripts and styles, talk only to its own server, and be framed by no
// one), Referrer-Policy, Permissions-Policy and COOP; HSTS comes when the
// client came over HTTPS (here: through a trusted proxy that says so).
func TestSecurityHeaders(t *testing.T) {
	srv := servertest.Start(t, servertest.WithConfig(func(c *app.Config) { c.NoWeb = false }))
	alice := servertest.SignUp(t, srv.URL, "alice")
	for _, c := range []struct {
		method, path string
		token        string
		app          bool
	}{
		{"GET", "/", "", true},
		{"GET", "/login", "", true},
		{"GET", "/assets/missing.js", "", true},
		{"GET", "/healthz", "", false},
		{"GET", "/api/v1/features", "", false},
		{"GET", "/api/v1/me", "", false},          // 401
		{"GET", "/api/v1/me", alice.Token, false}, // 200
		{"GET", "/api/v1/nowhere", "", false},     // 404
		{"POST", "/api/v1/auth/login", "", false}, // 400
		{"GET", "/api/v1/ws", alice.Token, false}, // no upgrade: 426
		{"GET", "/metrics", "", true},             // not here: the app's not-found page
		{"GET", "/api/v1/conversations/x", alice.Token, false},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader("{"))
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		h := res.Header
		what := c.method + " " + c.path + " (" + res.Status + ")"
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", what, h.Get("X-Content-Type-Options"))
		}
		if h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cross-Origin-Opener-Policy") != "same-origin" {
			t.Errorf("%s: Referrer-Policy %q, COOP %q", what, h.Get("Referrer-Policy"), h.Get("Cross-Origin-Opener-Policy"))
		}
		if pp := h.Get("Permissions-Policy"); !strings.Contains(pp, "camera=(self)") || !strings.Contains(pp, "microphone=(self)") {
			t.Errorf("%s: Permissions-Policy %q", what, pp)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP", what)
		}
		csp := h.Get("Content-Security-Policy")
		for _, d := range []string{"frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s: CSP %q lacks %s", what, csp, d)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q allows something unsafe", what, csp)
		}
		if c.app {
			host := strings.TrimPrefix(srv.URL, "http://")
			for _, d := range []string{"default-src 'self'", "script-src 'self'", "connect-src 'self' ws://" + host, "worker-src 'self'", "object-src 'none'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("%s: CSP %q lacks %s", what, csp, d)
				}
			}
		} else if !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP %q; API answers load nothing", what, csp)
		}
	}

	// Over HTTPS at the balancer (trusted: loopback): HSTS, and the app's
	// WebSocket is wss:.
	req, _ := http.NewRequest("GET", srv.URL+"/", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Host = "chat.example.com"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if hsts := res.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Errorf("over HTTPS: HSTS %q", hsts)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' wss://chat.example.com;") {
		t.Errorf("over HTTPS: CSP %q", csp)
	}
	// A Host that could smuggle a directive is left out.
	req, _ = http.NewRequest("GET", srv.URL+"/", nil)
	req.Host = "evil;script-src"
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); strings.Contains(csp, "evil") || !strings.Contains(csp, "connect-src 'self';") {
		t.Errorf("Host with ';': CSP %q", csp)
	}
}
