package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"parley"
)

// Features says which optional parts the server has turned on.
type Features struct {
	Suggestions bool `json:"suggestions"`
	Calls       bool `json:"calls"`
	Push        bool `json:"push"`
}

// ProfileUpdate holds the changeable fields of the caller's profile; nil
// fields are left as they are.
type ProfileUpdate struct {
	DisplayName       *string `json:"display_name,omitempty"`
	AcceptingMessages *bool   `json:"accepting_messages,omitempty"`
}

// Marks are a member's receipt high-water marks in a conversation.
type Marks struct {
	DeliveredSeq int64 `json:"delivered_seq"`
	ReadSeq      int64 `json:"read_seq"`
}

type userBody struct {
	User parley.User `json:"user"`
}

type convBody struct {
	Conversation parley.ConversationSummary `json:"conversation"`
}

type messageBody struct {
	Message parley.Message `json:"message"`
}

func convPath(id int64, rest string) string {
	return "/conversations/" + strconv.FormatInt(id, 10) + rest
}

// Features reports the server's optional features. It needs no login.
func (c *Client) Features(ctx context.Context) (Features, error) {
	var f Features
	_, err := c.do(ctx, http.MethodGet, "/features", nil, nil, &f)
	return f, err
}

// Signup creates an account. It does not log in.
func (c *Client) Signup(ctx context.Context, username, email, password string) (parley.User, error) {
	in := struct {
		Username string `json:"username"`
		Email    string `json:"email"`
		Password string `json:"password"`
	}{username, email, password}
	var out userBody
	_, err := c.do(ctx, http.MethodPost, "/auth/signup", nil, in, &out)
	return out.User, err
}

// Login logs in with a username or email and a password, and keeps the
// session's bearer token for later calls (see Token and SessionID).
func (c *Client) Login(ctx context.Context, login, password string) (parley.User, error) {
	in := struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}{login, password}
	var out struct {
		Token     string      `json:"token"`
		SessionID int64       `json:"session_id"`
		User      parley.User `json:"user"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/auth/login", nil, in, &out); err != nil {
		return parley.User{}, err
	}
	c.mu.Lock()
	c.token, c.sessionID = out.Token, out.SessionID
	c.mu.Unlock()
	return out.User, nil
}

// Logout ends the current session everywhere (its WebSockets close with
// code 4001) and forgets the token.
func (c *Client) Logout(ctx context.Context) error {
	if _, err := c.do(ctx, http.MethodPost, "/auth/logout", nil, nil, nil); err != nil {
		return err
	}
	c.mu.Lock()
	c.token, c.sessionID = "", 0
	c.mu.Unlock()
	return nil
}

// Me returns the caller's own user, with email.
func (c *Client) Me(ctx context.Context) (parley.User, error) {
	var out userBody
	_, err := c.do(ctx, http.MethodGet, "/me", nil, nil, &out)
	return out.User, err
}

// UpdateMe changes the caller's profile and returns it.
func (c *Client) UpdateMe(ctx context.Context, upd ProfileUpdate) (parley.User, error) {
	var out userBody
	_, err := c.do(ctx, http.MethodPatch, "/me", nil, upd, &out)
	return out.User, err
}

// Sessions lists the caller's sessions; the caller's own has Current set.
func (c *Client) Sessions(ctx context.Context) ([]parley.Session, error) {
	var out struct {
		Sessions []parley.Session `json:"sessions"`
	}
	_, err := c.do(ctx, http.MethodGet, "/sessions", nil, nil, &out)
	return out.Sessions, err
}

// DeleteSession ends one of the caller's sessions; its WebSockets close.
func (c *Client) DeleteSession(ctx context.Context, id int64) error {
	_, err := c.do(ctx, http.MethodDelete, "/sessions/"+strconv.FormatInt(id, 10), nil, nil, nil)
	return err
}

// LogoutOthers ends all of the caller's sessions but the current one and
// returns how many it ended.
func (c *Client) LogoutOthers(ctx context.Context) (int, error) {
	var out struct {
		Revoked int `json:"revoked"`
	}
	_, err := c.do(ctx, http.MethodPost, "/sessions/logout-others", nil, nil, &out)
	return out.Revoked, err
}

// SearchUsers lists up to limit users whose username starts with prefix
// (limit 0: the server's default).
func (c *Client) SearchUsers(ctx context.Context, prefix string, limit int) ([]parley.User, error) {
	q := url.Values{"prefix": {prefix}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Users []parley.User `json:"users"`
	}
	_, err := c.do(ctx, http.MethodGet, "/users", q, nil, &out)
	return out.Users, err
}

// User returns another user's public profile by username.
func (c *Client) User(ctx context.Context, username string) (parley.User, error) {
	var out userBody
	_, err := c.do(ctx, http.MethodGet, "/users/"+url.PathEscape(username), nil, nil, &out)
	return out.User, err
}

// Conversations lists the caller's conversations, newest activity first.
func (c *Client) Conversations(ctx context.Context) ([]parley.ConversationSummary, error) {
	var out struct {
		Conversations []parley.ConversationSummary `json:"conversations"`
	}
	_, err := c.do(ctx, http.MethodGet, "/conversations", nil, nil, &out)
	return out.Conversations, err
}

// Conversation returns one of the caller's conversations.
func (c *Client) Conversation(ctx context.Context, id int64) (parley.ConversationSummary, error) {
	var out convBody
	_, err := c.do(ctx, http.MethodGet, convPath(id, ""), nil, nil, &out)
	return out.Conversation, err
}

// CreateGroup creates a group with the caller as owner. An empty code lets
// the server generate one.
func (c *Client) CreateGroup(ctx context.Context, name, code string) (parley.ConversationSummary, error) {
	in := struct {
		Name string `json:"name"`
		Code string `json:"code,omitempty"`
	}{name, code}
	var out convBody
	_, err := c.do(ctx, http.MethodPost, "/groups", nil, in, &out)
	return out.Conversation, err
}

// JoinGroup joins the group with the join code; joined is false if the
// caller already was a member.
func (c *Client) JoinGroup(ctx context.Context, code string) (conv parley.ConversationSummary, joined bool, err error) {
	in := struct {
		Code string `json:"code"`
	}{code}
	var out convBody
	status, err := c.do(ctx, http.MethodPost, "/groups/join", nil, in, &out)
	return out.Conversation, status == http.StatusCreated, err
}

// Direct returns the direct conversation with the user, creating it if
// needed (created tells which).
func (c *Client) Direct(ctx context.Context, username string) (conv parley.ConversationSummary, created bool, err error) {
	in := struct {
		Username string `json:"username"`
	}{username}
	var out convBody
	status, err := c.do(ctx, http.MethodPost, "/direct", nil, in, &out)
	return out.Conversation, status == http.StatusCreated, err
}

// Rename renames a group (admins only).
func (c *Client) Rename(ctx context.Context, id int64, name string) (parley.ConversationSummary, error) {
	in := struct {
		Name string `json:"name"`
	}{name}
	var out convBody
	_, err := c.do(ctx, http.MethodPatch, convPath(id, ""), nil, in, &out)
	return out.Conversation, err
}

// SetCode sets a group's join code (admins only); an empty code lets the
// server generate a new one.
func (c *Client) SetCode(ctx context.Context, id int64, code string) (parley.ConversationSummary, error) {
	in := struct {
		Code string `json:"code,omitempty"`
	}{code}
	var out convBody
	_, err := c.do(ctx, http.MethodPost, convPath(id, "/code"), nil, in, &out)
	return out.Conversation, err
}

// Members lists a conversation's members with their receipt marks.
func (c *Client) Members(ctx context.Context, id int64) ([]parley.Member, error) {
	var out struct {
		Members []parley.Member `json:"members"`
	}
	_, err := c.do(ctx, http.MethodGet, convPath(id, "/members"), nil, nil, &out)
	return out.Members, err
}

// SetRole sets a member's role (parley.RoleAdmin or parley.RoleMember;
// parley.RoleOwner hands ownership over).
func (c *Client) SetRole(ctx context.Context, id, userID int64, role string) (parley.Member, error) {
	in := struct {
		Role string `json:"role"`
	}{role}
	var out struct {
		Member parley.Member `json:"member"`
	}
	_, err := c.do(ctx, http.MethodPatch, convPath(id, "/members/"+strconv.FormatInt(userID, 10)), nil, in, &out)
	return out.Member, err
}

// RemoveMember removes a member from a group (admins only).
func (c *Client) RemoveMember(ctx context.Context, id, userID int64) error {
	_, err := c.do(ctx, http.MethodDelete, convPath(id, "/members/"+strconv.FormatInt(userID, 10)), nil, nil, nil)
	return err
}

// Leave leaves a group.
func (c *Client) Leave(ctx context.Context, id int64) error {
	_, err := c.do(ctx, http.MethodPost, convPath(id, "/leave"), nil, nil, nil)
	return err
}

// Send stores a message, with the uploads attachments attached (see
// Upload). clientMsgID makes it idempotent: resending the same id returns
// the original message with created false.
func (c *Client) Send(ctx context.Context, convID int64, clientMsgID, text string, attachments ...int64) (msg parley.Message, created bool, err error) {
	in := struct {
		ClientMsgID string  `json:"client_msg_id"`
		Text        string  `json:"text"`
		Attachments []int64 `json:"attachments,omitempty"`
	}{clientMsgID, text, attachments}
	var out messageBody
	status, err := c.do(ctx, http.MethodPost, convPath(convID, "/messages"), nil, in, &out)
	return out.Message, status == http.StatusCreated, err
}

// History returns a page of a conversation's messages in ascending seq
// order: with q.BeforeSeq set, the q.Limit messages just before it, else the
// q.Limit messages after q.AfterSeq (limit 0: the server's default).
// hasMore says whether more exist in the direction of paging.
func (c *Client) History(ctx context.Context, convID int64, q parley.MessageQuery) (msgs []parley.Message, hasMore bool, err error) {
	v := url.Values{}
	if q.AfterSeq > 0 {
		v.Set("after_seq", strconv.FormatInt(q.AfterSeq, 10))
	}
	if q.BeforeSeq > 0 {
		v.Set("before_seq", strconv.FormatInt(q.BeforeSeq, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out struct {
		Messages []parley.Message `json:"messages"`
		HasMore  bool             `json:"has_more"`
	}
	_, err = c.do(ctx, http.MethodGet, convPath(convID, "/messages"), v, nil, &out)
	return out.Messages, out.HasMore, err
}

// HistoryAround returns the page of a conversation's history around seq
// (the message at seq and those just before and after it, limit in all;
// 0: the server's default), and whether more exist before and after it.
func (c *Client) HistoryAround(ctx context.Context, convID, seq int64, limit int) (msgs []parley.Message, moreBefore, moreAfter bool, err error) {
	v := url.Values{"around_seq": {strconv.FormatInt(seq, 10)}}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var out struct {
		Messages   []parley.Message `json:"messages"`
		MoreBefore bool             `json:"has_more_before"`
		MoreAfter  bool             `json:"has_more_after"`
	}
	_, err = c.do(ctx, http.MethodGet, convPath(convID, "/messages"), v, nil, &out)
	return out.Messages, out.MoreBefore, out.MoreAfter, err
}

// Reply sends a message answering message replyTo of the conversation.
func (c *Client) Reply(ctx context.Context, convID, replyTo int64, clientMsgID, text string) (msg parley.Message, created bool, err error) {
	in := struct {
		ClientMsgID string `json:"client_msg_id"`
		Text        string `json:"text"`
		ReplyTo     int64  `json:"reply_to"`
	}{clientMsgID, text, replyTo}
	var out messageBody
	status, err := c.do(ctx, http.MethodPost, convPath(convID, "/messages"), nil, in, &out)
	return out.Message, status == http.StatusCreated, err
}

func seqPath(convID, seq int64) string {
	return convPath(convID, fmt.Sprintf("/messages/%d", seq))
}

// Edit replaces the text of one of the caller's messages.
func (c *Client) Edit(ctx context.Context, convID, seq int64, text string) (parley.Message, error) {
	in := struct {
		Text string `json:"text"`
	}{text}
	var out messageBody
	_, err := c.do(ctx, http.MethodPatch, seqPath(convID, seq), nil, in, &out)
	return out.Message, err
}

// Delete turns a message into a tombstone and returns it.
func (c *Client) Delete(ctx context.Context, convID, seq int64) (parley.Message, error) {
	var out messageBody
	_, err := c.do(ctx, http.MethodDelete, seqPath(convID, seq), nil, nil, &out)
	return out.Message, err
}

// MarkRead moves the caller's read mark (and with it the delivered mark)
// forward to seq and returns the marks; they never move back.
func (c *Client) MarkRead(ctx context.Context, convID, seq int64) (Marks, error) {
	in := struct {
		Seq int64 `json:"seq"`
	}{seq}
	var out Marks
	_, err := c.do(ctx, http.MethodPost, convPath(convID, "/read"), nil, in, &out)
	return out, err
}
