package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"parley"
	"parley/suggest"
)

// handleSuggestions streams message suggestions as Server-Sent Events:
// `suggestion` events as each completes, then `done`, or an `error` event.
func (s *Server) handleSuggestions(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	if s.opt.Suggest == nil {
		s.writeError(w, r, parley.Errorf(parley.ENOTIMPL, "Suggestions are turned off on this server."))
		return
	}
	var req struct {
		Prompt string `json:"prompt"`
	}
	id, err := ids(r, "id")
	if err == nil {
		err = decode(r, &req)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	conv, err := s.svc.Conversation(r.Context(), u.ID, id[0])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if l := s.opt.SuggestLimiter; l != nil {
		if ok, retry := l.Allow(u.ID); !ok {
			s.writeError(w, r, &parley.Error{Code: parley.ERATELIMITED, Message: "Too many suggestion requests; try again in a moment.",
				RetryAfter: retry})
			return
		}
	}
	sreq, err := s.suggestRequest(r.Context(), u, conv, req.Prompt)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush()
	n := 0
	event := func(name string, data any) error {
		b, _ := json.Marshal(data)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b); err != nil {
			return err
		}
		return rc.Flush()
	}
	err = s.opt.Suggest.Suggest(r.Context(), sreq, func(text string) error {
		err := event("suggestion", map[string]any{"index": n, "text": text})
		n++
		return err
	})
	if err != nil {
		if r.Context().Err() != nil {
			return // the client went away
		}
		body := parley.BodyOf(err)
		if body.Code == parley.EINTERNAL {
			s.log.Error("suggestions", "err", err)
		}
		event("error", body)
		return
	}
	event("done", map[string]any{"count": n})
}

// suggestRequest builds the provider's view of the conversation: the last
// messages the user can read, with sender names, and nothing else.
func (s *Server) suggestRequest(ctx context.Context, u parley.User, conv parley.ConversationSummary, prompt string) (suggest.Request, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	msgs, _, err := s.svc.History(ctx, u.ID, conv.ID, parley.MessageQuery{BeforeSeq: conv.LastSeq + 1, Limit: s.opt.SuggestContext})
	if err != nil {
		return suggest.Request{}, err
	}
	req := suggest.Request{Prompt: prompt, Me: nameOf(u.DisplayName, u.Username), ConversationName: conv.Name}
	for _, m := range msgs {
		if m.Kind != parley.MessageText || m.DeletedAt != nil || m.Sender == nil {
			continue
		}
		req.History = append(req.History, suggest.Turn{Sender: nameOf(m.Sender.DisplayName, m.Sender.Username),
			Mine: m.SenderID == u.ID, Text: m.Text})
	}
	return req, nil
}

func nameOf(display, username string) string {
	if display != "" {
		return display
	}
	return username
}
