package http

import (
	"net/http"

	"parley"
)

// routes lists the whole API. docs/protocol.md describes each route, and
// openapi/openapi.json too (the tests fail on a route it does not describe).
func (s *Server) routes() http.Handler {
	api := http.NewServeMux()
	a := s.auth

	api.HandleFunc("POST /api/v1/auth/signup", s.handleSignup)
	api.HandleFunc("POST /api/v1/auth/login", s.handleLogin)
	api.Handle("POST /api/v1/auth/logout", a(s.handleLogout))
	api.Handle("GET /api/v1/me", s.api(s.handleMe))
	api.Handle("PATCH /api/v1/me", s.api(s.handleUpdateMe))
	api.Handle("GET /api/v1/sessions", s.api(s.handleSessions))
	api.Handle("DELETE /api/v1/sessions/{id}", s.api(s.handleDeleteSession))
	api.Handle("POST /api/v1/sessions/logout-others", s.api(s.handleLogoutOthers))
	api.Handle("POST /api/v1/me/password", s.api(s.handleChangePassword))
	api.Handle("POST /api/v1/me/delete", a(s.handleDeleteAccount))
	api.Handle("GET /api/v1/me/blocks", s.api(s.handleBlocks))
	api.Handle("GET /api/v1/me/export", a(s.handleExport))
	api.Handle("POST /api/v1/me/blocks", s.api(s.handleBlock))
	api.Handle("DELETE /api/v1/me/blocks/{user_id}", s.api(s.handleUnblock))
	api.Handle("GET /api/v1/users", s.api(s.handleSearchUsers))
	api.Handle("GET /api/v1/users/{username}", s.api(s.handleUser))
	api.HandleFunc("POST /api/v1/auth/reset-password", s.handleResetPassword)
	api.HandleFunc("GET /api/v1/features", s.handleFeatures)
	api.HandleFunc("GET /api/v1/openapi.json", s.handleOpenAPI)

	api.Handle("GET /api/v1/conversations", s.api(s.handleConversations))
	api.Handle("GET /api/v1/conversations/{id}", s.api(s.handleConversation))
	api.Handle("PATCH /api/v1/conversations/{id}", s.api(s.handleRename))
	api.Handle("POST /api/v1/conversations/{id}/code", s.api(s.handleSetCode))
	api.Handle("GET /api/v1/conversations/{id}/members", s.api(s.handleMembers))
	api.Handle("POST /api/v1/conversations/{id}/members", s.api(s.handleAddMember))
	api.Handle("PATCH /api/v1/conversations/{id}/members/{user_id}", s.api(s.handleSetRole))
	api.Handle("DELETE /api/v1/conversations/{id}/members/{user_id}", s.api(s.handleRemoveMember))
	api.Handle("POST /api/v1/conversations/{id}/leave", s.api(s.handleLeave))
	api.Handle("PATCH /api/v1/conversations/{id}/settings", s.api(s.handleNotifySettings))
	api.Handle("POST /api/v1/groups", s.api(s.handleCreateGroup))
	api.Handle("POST /api/v1/groups/join", s.api(s.handleJoinGroup))
	api.Handle("POST /api/v1/direct", s.api(s.handleDirect))

	api.Handle("POST /api/v1/conversations/{id}/messages", s.api(s.handleSend))
	api.Handle("GET /api/v1/conversations/{id}/messages", s.api(s.handleHistory))
	api.Handle("PATCH /api/v1/conversations/{id}/messages/{seq}", s.api(s.handleEdit))
	api.Handle("DELETE /api/v1/conversations/{id}/messages/{seq}", s.api(s.handleDelete))
	api.Handle("GET /api/v1/conversations/{id}/messages/{seq}/info", s.api(s.handleMessageInfo))
	api.Handle("POST /api/v1/conversations/{id}/read", s.api(s.handleRead))
	api.Handle("POST /api/v1/conversations/{id}/messages/{seq}/forward", s.api(s.handleForward))
	api.Handle("POST /api/v1/conversations/{id}/messages/{seq}/reactions", s.api(s.handleReact))
	api.Handle("GET /api/v1/conversations/{id}/pins", s.api(s.handlePins))
	api.Handle("PUT /api/v1/conversations/{id}/pins/{seq}", s.api(s.handlePin(true)))
	api.Handle("DELETE /api/v1/conversations/{id}/pins/{seq}", s.api(s.handlePin(false)))
	api.Handle("PATCH /api/v1/conversations/{id}/chat-list", s.api(s.handleSetChatList))
	api.Handle("GET /api/v1/me/chat-list", s.api(s.handleChatList))
	api.Handle("POST /api/v1/conversations/{id}/suggestions", a(s.handleSuggestions))
	api.Handle("POST /api/v1/conversations/{id}/messages/{seq}/report", s.api(s.handleReportMessage))

	api.Handle("GET /api/v1/invitations", s.api(s.handleInvitations))
	api.Handle("POST /api/v1/invitations", s.api(s.handleCreateInvitation))
	api.Handle("DELETE /api/v1/invitations/{id}", s.api(s.handleRevokeInvitation))
	api.Handle("GET /api/v1/admin/users", s.api(s.handleAdminUsers))
	api.Handle("POST /api/v1/admin/users", s.api(s.handleAdminCreateUser))
	api.Handle("PATCH /api/v1/admin/users/{id}", s.api(s.handleAdminUpdateUser))
	api.Handle("DELETE /api/v1/admin/users/{id}", s.api(s.handleAdminDeleteUser))
	api.Handle("POST /api/v1/admin/users/{id}/reset-link", s.api(s.handleAdminResetLink))
	api.Handle("GET /api/v1/admin/stats", s.api(s.handleAdminStats))
	api.Handle("GET /api/v1/admin/reports", s.api(s.handleReports))
	api.Handle("POST /api/v1/admin/reports/{id}", s.api(s.handleResolveReport))
	api.Handle("GET /api/v1/search", s.api(s.handleSearch))

	if s.opt.Files != nil {
		// Requests carrying a file get longer than a JSON body.
		file := func(h AuthedHandler) http.Handler { return WithBodyTimeout(s.uploadTimeout(), a(h)) }
		api.Handle("POST /api/v1/uploads", file(s.handleUpload))
		api.Handle("DELETE /api/v1/uploads/{id}", s.api(s.handleDeleteUpload))
		api.Handle("GET /api/v1/attachments/{id}", a(s.handleAttachment))
		api.Handle("GET /api/v1/attachments/{id}/thumbnail", a(s.handleThumbnail))
		api.Handle("PUT /api/v1/me/avatar", file(s.handleSetAvatar))
		api.Handle("DELETE /api/v1/me/avatar", s.api(s.handleRemoveAvatar))
		api.Handle("GET /api/v1/users/{id}/avatar", a(s.handleAvatar))
		api.Handle("PUT /api/v1/conversations/{id}/photo", file(s.handleSetGroupPhoto))
		api.Handle("DELETE /api/v1/conversations/{id}/photo", s.api(s.handleRemoveGroupPhoto))
		api.Handle("GET /api/v1/conversations/{id}/photo", a(s.handleGroupPhoto))
	}
	if s.opt.Push != nil {
		api.Handle("GET /api/v1/push/key", s.api(s.handlePushKey))
		api.Handle("GET /api/v1/push/subscriptions", s.api(s.handlePushSubscriptions))
		api.Handle("POST /api/v1/push/subscriptions", s.api(s.handleSubscribe))
		api.Handle("DELETE /api/v1/push/subscriptions/{id}", s.api(s.handleUnsubscribe))
	}
	if s.opt.Realtime != nil {
		api.Handle("GET /api/v1/ws", a(s.handleWebSocket))
	}
	if s.opt.Extra != nil {
		s.opt.Extra(api, s.auth)
	}
	api.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, parley.Errorf(parley.ENOTFOUND, "No such API route."))
	})

	// Cross-site requests that change state are refused; bearer-token
	// clients send no Origin and pass.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, parley.Errorf(parley.EFORBIDDEN, "Cross-site request refused."))
	}))

	root := http.NewServeMux()
	root.Handle("/api/", s.metrics.instrument(cop.Handler(api)))
	root.HandleFunc("GET /healthz", s.healthz)
	root.HandleFunc("GET /readyz", s.readyz)
	if s.opt.MetricsToken != "" {
		root.Handle("GET /metrics", MetricsHandler(s.opt.Metrics, s.opt.MetricsToken))
	}
	if s.opt.Web != nil {
		root.Handle("/", s.appPolicy(s.opt.Web))
	}
	return root
}
