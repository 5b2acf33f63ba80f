package service

import (
	"context"

	"parley"
)

var errWrongPassword = &parley.Error{Code: parley.EFORBIDDEN, Field: "current_password", Message: "Your current password is wrong."}

// checkOwnPassword checks the signed-in user's own password, for the
// changes to an account that ask for it again. Wrong passwords count
// against LoginFailuresPerAccount per LoginWindow (per account, whatever
// the address), so a stolen session cannot guess it at leisure; a right
// one is taken back.
func (s *Service) checkOwnPassword(ctx context.Context, u parley.User, password string) error {
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
	if err := s.checkOwnPassword(ctx, u, current); err != nil {
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
