package http

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes lists the whole API. docs/protocol.md describes each route.
func (s *Server) routes() http.Handler {
	api := http.NewServeMux()
	a := s.auth

	api.HandleFunc("POST /api/v1/auth/signup", s.handleSignup)
	api.HandleFunc("POST /api/v1/auth/login", s.handleLogin)
	api.Handle("POST /api/v1/auth/logout", a(s.handleLogout))
	api.Handle("GET /api/v1/me", a(s.handleMe))
	api.Handle("PATCH /api/v1/me", a(s.handleUpdateMe))
	api.Handle("GET /api/v1/sessions", a(s.handleSessions))
	api.Handle("DELETE /api/v1/sessions/{id}", a(s.handleDeleteSession))
	api.Handle("POST /api/v1/sessions/logout-others", a(s.handleLogoutOthers))
	api.Handle("GET /api/v1/users", a(s.handleSearchUsers))
	api.Handle("GET /api/v1/users/{username}", a(s.handleUser))
	api.HandleFunc("GET /api/v1/features", s.handleFeatures)

	api.Handle("GET /api/v1/conversations", a(s.handleConversations))
	api.Handle("GET /api/v1/conversations/{id}", a(s.handleConversation))
	api.Handle("PATCH /api/v1/conversations/{id}", a(s.handleRename))
	api.Handle("POST /api/v1/conversations/{id}/code", a(s.handleSetCode))
	api.Handle("GET /api/v1/conversations/{id}/members", a(s.handleMembers))
	api.Handle("PATCH /api/v1/conversations/{id}/members/{user_id}", a(s.handleSetRole))
	api.Handle("DELETE /api/v1/conversations/{id}/members/{user_id}", a(s.handleRemoveMember))
	api.Handle("POST /api/v1/conversations/{id}/leave", a(s.handleLeave))
	api.Handle("POST /api/v1/groups", a(s.handleCreateGroup))
	api.Handle("POST /api/v1/groups/join", a(s.handleJoinGroup))
	api.Handle("POST /api/v1/direct", a(s.handleDirect))

	api.Handle("POST /api/v1/conversations/{id}/messages", a(s.handleSend))
	api.Handle("GET /api/v1/conversations/{id}/messages", a(s.handleHistory))
	api.Handle("PATCH /api/v1/conversations/{id}/messages/{seq}", a(s.handleEdit))
	api.Handle("DELETE /api/v1/conversations/{id}/messages/{seq}", a(s.handleDelete))
	api.Handle("POST /api/v1/conversations/{id}/read", a(s.handleRead))
	api.Handle("POST /api/v1/conversations/{id}/suggestions", a(s.handleSuggestions))

	if s.opt.Realtime != nil {
		api.Handle("GET /api/v1/ws", a(s.handleWebSocket))
	}
	if s.opt.Extra != nil {
		s.opt.Extra(api, s.auth)
	}
	api.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{errorDetail{Code: "not_found", Message: "No such API route."}})
	})

	// Cross-site requests that change state are refused; bearer-token
	// clients send no Origin and pass.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusForbidden, errorBody{errorDetail{Code: "forbidden", Message: "Cross-site request refused."}})
	}))

	root := http.NewServeMux()
	root.Handle("/api/", s.metrics.instrument(cop.Handler(api)))
	root.HandleFunc("GET /healthz", s.healthz)
	root.HandleFunc("GET /readyz", s.readyz)
	root.Handle("GET /metrics", promhttp.HandlerFor(s.opt.Metrics, promhttp.HandlerOpts{}))
	if s.opt.Web != nil {
		root.Handle("/", s.opt.Web)
	}
	return root
}
