package service

import (
	"context"
	"strconv"
	"time"

	"parley"
)

// checkOwnPassword checks the signed-in user's own password, for the
// changes to an account that ask for it again. Wrong passwords count
// against LoginFailuresPerAccount per LoginWindow (per account, whatever
// the address), so a stolen session cannot guess it at leisure; a right
// one is taken back.
// A wrong one is EFORBIDDEN naming field.
func (s *Service) checkOwnPassword(ctx context.Context, u parley.User, password, field string) error {
	errWrongPassword := &parley.Error{Code: parley.EFORBIDDEN, Field: field, Message: "Your password is wrong."}
	if len(password) > 4*parley.PasswordMax {
		return errWrongPassword
	}
	now := s.Now()
	key := passwordKey(u.ID)
	if err := s.reserve(ctx, now, s.cfg.LoginWindow, "Too many wrong passwords; try again later.",
		parley.AttemptLimit{Key: key, Max: s.cfg.LoginFailuresPerAccount, Since: now.Add(-s.cfg.LoginWindow)}); err != nil {
		return err
	}
	release, err := s.acquireHash(ctx)
	if err != nil {
		s.forget(ctx, now, key)
		return err
	}
	defer release()
	found, hash, err := s.store.UserByLogin(ctx, u.Username)
	if err != nil || found.ID != u.ID {
		s.forget(ctx, now, key)
		if err == nil {
			err = parley.ErrNotFound
		}
		return err
	}
	if !checkPassword(password, hash) {
		return errWrongPassword
	}
	s.forget(ctx, now, key)
	return nil
}

// ChangePassword replaces the user's password once their current one is
// checked, and ends every other session of theirs: the stored sessions go
// in the same transaction as the hash, and every node closes their
// WebSockets (close code 4001). The session that asked stays. It returns
// how many sessions ended.
func (s *Service) ChangePassword(ctx context.Context, u parley.User, sessionID int64, current, next string) (int, error) {
	if err := parley.ValidatePassword(next); err != nil {
		return 0, &parley.Error{Code: parley.EINVALID, Field: "new_password", Message: parley.ErrorMessage(err)}
	}
	if err := s.checkOwnPassword(ctx, u, current, "current_password"); err != nil {
		return 0, err
	}
	release, err := s.acquireHash(ctx)
	if err != nil {
		return 0, err
	}
	hash, err := hashPassword(next, s.cfg.Hash)
	release()
	if err != nil {
		return 0, err
	}
	ids, err := s.store.SetPassword(ctx, u.ID, hash, sessionID)
	if err != nil {
		return 0, err
	}
	if len(ids) > 0 {
		s.publish(ctx, parley.UserTopic(u.ID), parley.Event{Type: parley.EventRevoke, UserID: u.ID, SessionID: sessionID, All: true})
	}
	return len(ids), nil
}

// UsernameRetirement is how long the username of a deleted account stays
// taken before anyone may sign up with it: people who knew the name do not
// meet someone else under it right away.
const UsernameRetirement = 30 * 24 * time.Hour

// DeleteAccount deletes the signed-in user's own account once their
// password is checked again (see RemoveAccount).
func (s *Service) DeleteAccount(ctx context.Context, u parley.User, password string) error {
	if err := s.checkOwnPassword(ctx, u, password, "password"); err != nil {
		return err
	}
	return s.RemoveAccount(ctx, u.ID)
}

// RemoveAccount deletes an account without asking for its password (the
// caller decides who may: the person themself through DeleteAccount, an
// instance admin). In one store transaction the person leaves every group
// (ownership handed over), their sessions, push subscriptions, blocks and
// profile photo go; their messages stay, from "Deleted account", and their
// direct chats take no more messages. Their username is free again after
// UsernameRetirement. Every node closes their sockets (4001); the members
// of their groups get the departures, the people of their direct chats the
// changed profile. ENOTFOUND if there is no such account (or it is deleted).
func (s *Service) RemoveAccount(ctx context.Context, userID int64) error {
	// The memberships as they were, for the departures' events.
	before := map[int64]parley.Member{}
	if ids, err := s.store.ConversationIDs(ctx, userID); err == nil {
		for _, id := range ids {
			if m, err := s.store.Member(ctx, id, userID); err == nil {
				before[id] = m
			}
		}
	}
	now := s.Now()
	left, err := s.store.DeleteUser(ctx, userID, now.Add(UsernameRetirement), now)
	if err != nil {
		return err
	}
	s.publish(ctx, parley.UserTopic(userID), parley.Event{Type: parley.EventRevoke, UserID: userID, All: true})
	for _, sys := range left {
		m, ok := before[sys.ConversationID]
		if !ok {
			m = parley.Member{ConversationID: sys.ConversationID, UserID: userID, Role: parley.RoleMember}
		}
		m.Username, m.DisplayName, m.AvatarURL = "~"+strconv.FormatInt(userID, 10), parley.DeletedName, ""
		s.announceLeave(ctx, m, "left", sys)
	}
	if s.files != nil {
		s.files.wake() // the profile photo released
	}
	s.announceProfile(ctx, userID)
	return nil
}

// Block stops the named person from sending to userID in a direct chat,
// starting one with them, or calling them: they get not_accepting, the
// answer of someone who does not accept messages, with no hint of the
// block. Groups are not affected. It returns the person blocked.
func (s *Service) Block(ctx context.Context, userID int64, username string) (parley.User, error) {
	other, err := s.store.UserByUsername(ctx, parley.NormalizeUsername(username))
	if err != nil {
		return parley.User{}, &parley.Error{Code: parley.ENOTFOUND, Field: "username", Message: "No such user."}
	}
	if other.ID == userID {
		return parley.User{}, parley.FieldErrorf("username", "You cannot block yourself.")
	}
	if err := s.store.Block(ctx, userID, other.ID, s.Now()); err != nil {
		return parley.User{}, err
	}
	other = other.Public()
	other.LastSeen = nil
	return other, nil
}

// Unblock lifts userID's block of blockedID (no block is no error).
func (s *Service) Unblock(ctx context.Context, userID, blockedID int64) error {
	return s.store.Unblock(ctx, userID, blockedID)
}

// Blocks lists the people userID blocks, without presence.
func (s *Service) Blocks(ctx context.Context, userID int64) ([]parley.User, error) {
	list, err := s.store.Blocks(ctx, userID)
	for i := range list {
		list[i] = list[i].Public()
		list[i].LastSeen = nil
	}
	if list == nil {
		list = []parley.User{}
	}
	return list, err
}

// accepts reports whether u takes direct messages and calls from userID:
// u accepts messages and does not block them.
func (s *Service) accepts(ctx context.Context, u parley.User, userID int64) (bool, error) {
	if !u.AcceptingMessages {
		return false, nil
	}
	blocked, err := s.store.Blocked(ctx, u.ID, userID)
	return !blocked, err
}
