package service

import (
	"context"
	"strconv"
	"strings"
	"time"

	"parley"
)

// SearchRequest is a search as a client asks for it (GET /api/v1/search).
type SearchRequest struct {
	Query          string
	ConversationID int64 // 0: every conversation of the caller
	From           int64 // sender's user id; 0: anyone
	After, Before  time.Time
	HasAttachment  bool
	Limit          int    // 0: parley.SearchLimitDefault
	Cursor         string // from the previous page's NextCursor
}

// SearchHit is a message found, with where it is and what matched.
type SearchHit struct {
	Message      parley.Message  `json:"message"`
	Conversation ConversationRef `json:"conversation"`
	// Snippet is the part of the text around the first match, and
	// Matches the [start, end) offsets of the matches in it, counted in
	// characters (Unicode code points).
	Snippet string   `json:"snippet"`
	Matches [][2]int `json:"matches"`
}

// ConversationRef names a conversation in search results.
type ConversationRef struct {
	ID   int64  `json:"id"`
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// SearchResult is a page of search results.
type SearchResult struct {
	Messages []SearchHit `json:"messages"`
	// NextCursor asks for the next page; empty when there is none.
	NextCursor string `json:"next_cursor,omitempty"`
	// Conversations of the caller and People whose names match the
	// query, on the first page of a search of every conversation only.
	Conversations []ConversationRef `json:"conversations"`
	People        []parley.User     `json:"people"`
}

// searchNamesMax bounds the conversations and people a search lists.
const searchNamesMax = 5

// Search finds the messages the caller can read now whose text matches
// req.Query (parley.ParseSearch), newest first, and on the first page the
// caller's conversations and the people whose names match it. A
// conversation the caller is not a member of is ENOTFOUND, as everywhere.
func (s *Service) Search(ctx context.Context, userID int64, req SearchRequest) (SearchResult, error) {
	terms, err := parley.ParseSearch(req.Query)
	if err != nil {
		return SearchResult{}, err
	}
	limit := req.Limit
	if limit == 0 {
		limit = parley.SearchLimitDefault
	}
	if limit < 1 || limit > parley.SearchLimitMax {
		return SearchResult{}, parley.FieldErrorf("limit", "limit must be 1 to %d.", parley.SearchLimitMax)
	}
	var before int64
	if req.Cursor != "" {
		if before, err = strconv.ParseInt(req.Cursor, 10, 64); err != nil || before <= 0 {
			return SearchResult{}, parley.FieldErrorf("cursor", "cursor is not one this server gave.")
		}
	}
	if req.ConversationID != 0 {
		if _, err := s.member(ctx, req.ConversationID, userID); err != nil {
			return SearchResult{}, err
		}
	}
	page, err := s.store.SearchMessages(ctx, parley.SearchQuery{
		UserID: userID, Terms: terms, ConversationID: req.ConversationID, SenderID: req.From,
		After: req.After, Before: req.Before, HasAttachment: req.HasAttachment, BeforeID: before, Limit: limit,
	})
	if err != nil {
		return SearchResult{}, err
	}
	convs, err := s.Conversations(ctx, userID)
	if err != nil {
		return SearchResult{}, err
	}
	refs := make(map[int64]ConversationRef, len(convs))
	for _, c := range convs {
		refs[c.ID] = ConversationRef{ID: c.ID, Kind: c.Kind, Name: c.Name}
	}
	res := SearchResult{Messages: []SearchHit{}, Conversations: []ConversationRef{}, People: []parley.User{}}
	for _, m := range page.Messages {
		snippet, matches := parley.Snippet(m.Text, terms)
		res.Messages = append(res.Messages, SearchHit{Message: m, Conversation: refs[m.ConversationID], Snippet: snippet, Matches: matches})
	}
	if page.Next != 0 {
		res.NextCursor = strconv.FormatInt(page.Next, 10)
	}
	if req.Cursor != "" || req.ConversationID != 0 {
		return res, nil
	}
	whole := strings.Join(terms, " ")
	for _, c := range convs {
		if len(res.Conversations) < searchNamesMax && strings.Contains(parley.FoldSearch(c.Name), whole) {
			res.Conversations = append(res.Conversations, refs[c.ID])
		}
	}
	if len(terms) == 1 && !strings.Contains(whole, " ") {
		if res.People, err = s.SearchUsers(ctx, whole, searchNamesMax); err != nil {
			return SearchResult{}, err
		}
	}
	return res, nil
}
