package http

import (
	"net/http"
	"strings"
)

// Security headers (docs/deploy.md, "Security"). The app's policy lets a
// page load only the app's own scripts, styles, fonts and workers (no
// inline script or style, no eval), images and media also from blob: and
// data: URLs (attachments, avatars, voice notes made in the page), talk
// only to its own server (REST, Server-Sent Events and the WebSocket), and
// be framed by no one. Every other answer (the API, health) loads nothing.
const (
	appCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
		"media-src 'self' blob: data:; font-src 'self'; worker-src 'self'; manifest-src 'self'; " +
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	apiCSP            = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	permissionsPolicy = "camera=(self), microphone=(self), display-capture=(), geolocation=(), payment=(), usb=()"
	hsts              = "max-age=31536000"
)

// securityHeaders sets the security headers on every answer before next
// writes it; a handler may replace them (a download's own sandbox CSP).
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", permissionsPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", apiCSP)
		if s.proxies.https(r) {
			h.Set("Strict-Transport-Security", hsts)
		}
		next.ServeHTTP(w, r)
	})
}

// appPolicy gives the web app's answers the app's policy.
func (s *Server) appPolicy(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", withConnect(appCSP, r.Host, s.proxies.https(r)))
		next.ServeHTTP(w, r)
	})
}

// withConnect adds the connect-src of a page served to host: its own
// origin and its WebSocket, which older browsers do not count as 'self'.
// A Host that is not a plain host[:port] is left out.
func withConnect(csp, host string, https bool) string {
	src := "connect-src 'self'"
	if plainHost(host) {
		if https {
			src += " wss://" + host
		} else {
			src += " ws://" + host
		}
	}
	return src + "; " + csp
}

func plainHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-:[]", c) >= 0) {
			return false
		}
	}
	return true
}
