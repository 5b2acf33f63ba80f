package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"parley"
)

// Signup creates an account, as the sign-up policy allows (Config.Signup):
// under SignupInvite, invite is the code of a usable invitation. ip is the
// client's address: sign-ups are limited per address
// (Config.SignupsPerHour).
func (s *Service) Signup(ctx context.Context, username, email, password, invite, ip string) (parley.User, error) {
	username = parley.NormalizeUsername(username)
	email = strings.ToLower(strings.TrimSpace(email))
	if err := parley.ValidateUsername(username); err != nil {
		return parley.User{}, err
	} else if err := parley.ValidateEmail(email); err != nil {
		return parley.User{}, err
	} else if err := parley.ValidatePassword(password); err != nil {
		return parley.User{}, err
	} else if err := s.signupAllowed(invite); err != nil {
		return parley.User{}, err
	}
	now := s.Now()
	key := signupKey(ip)
	if err := s.reserve(ctx, now, time.Hour, "Too many sign-ups from your address; try again later.",
		parley.AttemptLimit{Key: key, Max: s.cfg.SignupsPerHour, Since: now.Add(-time.Hour)}); err != nil {
		return parley.User{}, err
	}
	release, err := s.acquireHash(ctx)
	if err != nil {
		s.forget(ctx, now, key)
		return parley.User{}, err
	}
	hash, err := hashPassword(password, s.cfg.Hash)
	release()
	if err != nil {
		return parley.User{}, err
	}
	u := parley.User{Username: username, Email: email, DisplayName: username, AcceptingMessages: true, CreatedAt: now}
	if err := s.createUser(ctx, &u, hash, invite); err != nil {
		return parley.User{}, err
	}
	return u, nil
}

var errBadCredentials = &parley.Error{Code: parley.EBADCREDENTIALS, Message: "Wrong login or password."}

// Login checks a username or email and password and opens a session. The
// returned token is shown once; only its hash is stored.
//
// Failures are limited per client address and per login as typed (lower
// case) and address, whether or not an account has that login, so the
// limit tells nothing about which accounts exist. Each attempt is counted
// before its password is checked and taken back if it succeeds, so
// concurrent guesses cannot get past the limit.
func (s *Service) Login(ctx context.Context, login, password, userAgent, ip string) (string, parley.Session, parley.User, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	if login == "" || len(login) > parley.EmailMax || len(password) > 4*parley.PasswordMax {
		return "", parley.Session{}, parley.User{}, errBadCredentials
	}
	now := s.Now()
	since := now.Add(-s.cfg.LoginWindow)
	ipKey, loginKey := loginAddressKey(ip), loginKey(ip, login)
	if err := s.reserve(ctx, now, s.cfg.LoginWindow, "Too many failed logins; try again later.",
		parley.AttemptLimit{Key: ipKey, Max: s.cfg.LoginFailuresPerAddress, Since: since},
		parley.AttemptLimit{Key: loginKey, Max: s.cfg.LoginFailuresPerAccount, Since: since}); err != nil {
		return "", parley.Session{}, parley.User{}, err
	}
	release, err := s.acquireHash(ctx)
	if err != nil {
		s.forget(ctx, now, ipKey, loginKey)
		return "", parley.Session{}, parley.User{}, err
	}
	u, hash, err := s.store.UserByLogin(ctx, login)
	switch {
	case parley.ErrorCode(err) == parley.ENOTFOUND:
		checkPassword(password, s.dummyHash) // same cost as a real check
		release()
		return "", parley.Session{}, parley.User{}, errBadCredentials
	case err != nil:
		release()
		s.forget(ctx, now, ipKey, loginKey)
		return "", parley.Session{}, parley.User{}, err
	}
	good := checkPassword(password, hash)
	release()
	if !good {
		return "", parley.Session{}, parley.User{}, errBadCredentials
	} else if u.DisabledAt != nil {
		return "", parley.Session{}, parley.User{}, errDisabled
	}
	s.forget(ctx, now, ipKey)
	if err := s.store.ClearLoginFailures(ctx, loginKey); err != nil {
		return "", parley.Session{}, parley.User{}, err
	}
	token, hashed, err := newToken()
	if err != nil {
		return "", parley.Session{}, parley.User{}, err
	}
	userAgent = sessionUserAgent(userAgent)
	sess := parley.Session{UserID: u.ID, TokenHash: hashed, UserAgent: userAgent, IP: ip,
		CreatedAt: now, LastUsed: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.store.CreateSession(ctx, &sess); err != nil {
		return "", parley.Session{}, parley.User{}, err
	}
	return token, sess, u, nil
}

// newToken returns a session token of 256 random bits and its SHA-256 hash.
func newToken() (string, []byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok), nil
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// Authenticate returns the user and session of a token, sliding the
// session's expiry (at most once a minute, to spare the database).
func (s *Service) Authenticate(ctx context.Context, token string) (parley.User, parley.Session, error) {
	unauth := &parley.Error{Code: parley.EUNAUTHORIZED, Message: "Log in first."}
	if token == "" || len(token) > 128 {
		return parley.User{}, parley.Session{}, unauth
	}
	now := s.Now()
	sess, err := s.store.SessionByTokenHash(ctx, hashToken(token), now)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return parley.User{}, parley.Session{}, unauth
	} else if err != nil {
		return parley.User{}, parley.Session{}, err
	}
	u, err := s.store.User(ctx, sess.UserID)
	if parley.ErrorCode(err) == parley.ENOTFOUND || (err == nil && u.DisabledAt != nil) {
		return parley.User{}, parley.Session{}, unauth
	} else if err != nil {
		return parley.User{}, parley.Session{}, err
	}
	if now.Sub(sess.LastUsed) > time.Minute {
		sess.LastUsed, sess.ExpiresAt = now, now.Add(s.cfg.SessionTTL)
		if err := s.store.TouchSession(ctx, sess.ID, sess.LastUsed, sess.ExpiresAt); err != nil {
			s.log.Warn("touch session", "err", err)
		}
	}
	return u, sess, nil
}

// Logout ends a session everywhere: the stored session goes and every node
// closes its WebSockets.
func (s *Service) Logout(ctx context.Context, userID, sessionID int64) error {
	if err := s.store.DeleteSession(ctx, userID, sessionID); err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
		return err
	}
	s.publish(ctx, parley.UserTopic(userID), parley.Event{Type: parley.EventRevoke, UserID: userID, SessionID: sessionID})
	return nil
}

// RevokeSession ends one of the user's sessions.
func (s *Service) RevokeSession(ctx context.Context, userID, sessionID int64) error {
	if err := s.store.DeleteSession(ctx, userID, sessionID); err != nil {
		return err
	}
	s.publish(ctx, parley.UserTopic(userID), parley.Event{Type: parley.EventRevoke, UserID: userID, SessionID: sessionID})
	return nil
}

// LogoutOthers ends all the user's sessions but the current one.
func (s *Service) LogoutOthers(ctx context.Context, userID, keepSessionID int64) (int, error) {
	ids, err := s.store.DeleteOtherSessions(ctx, userID, keepSessionID)
	if err != nil {
		return 0, err
	}
	if len(ids) > 0 {
		s.publish(ctx, parley.UserTopic(userID), parley.Event{Type: parley.EventRevoke, UserID: userID, SessionID: keepSessionID, All: true})
	}
	return len(ids), nil
}

// Sessions lists the user's sessions, marking the current one.
func (s *Service) Sessions(ctx context.Context, userID, currentID int64) ([]parley.Session, error) {
	list, err := s.store.Sessions(ctx, userID, s.Now())
	for i := range list {
		list[i].Current = list[i].ID == currentID
	}
	return list, err
}

// SessionExpiry returns when a session expires as the store has it now
// (use may have slid it on since it was checked); ENOTFOUND once it has
// expired or been revoked.
func (s *Service) SessionExpiry(ctx context.Context, userID, sessionID int64) (time.Time, error) {
	list, err := s.store.Sessions(ctx, userID, s.Now())
	if err != nil {
		return time.Time{}, err
	}
	for _, sess := range list {
		if sess.ID == sessionID {
			return sess.ExpiresAt, nil
		}
	}
	return time.Time{}, parley.ErrNotFound
}

// UpdateMe changes the user's display name, message switch or
// notification text setting.
func (s *Service) UpdateMe(ctx context.Context, userID int64, upd parley.UserUpdate) (parley.User, error) {
	if upd.DisplayName != nil {
		name := parley.NormalizeName(*upd.DisplayName)
		if err := parley.ValidateDisplayName(name); err != nil {
			return parley.User{}, err
		}
		upd.DisplayName = &name
	}
	return s.store.UpdateUser(ctx, userID, upd)
}

// SearchUsers finds people by username prefix. Results carry no presence
// (last_seen): that is shown only to contacts (see UserByUsername).
func (s *Service) SearchUsers(ctx context.Context, prefix string, limit int) ([]parley.User, error) {
	prefix = parley.NormalizeUsername(prefix)
	if limit <= 0 {
		limit = 10
	}
	if limit > 20 {
		return nil, parley.FieldErrorf("limit", "limit must be 1 to 20.")
	}
	if prefix == "" || len(prefix) > parley.UsernameMax {
		return []parley.User{}, nil
	}
	users, err := s.store.SearchUsers(ctx, prefix, limit)
	for i := range users {
		users[i] = users[i].Public()
		users[i].LastSeen = nil
	}
	return users, err
}

// UserByUsername returns someone's public profile as viewerID may see it:
// last_seen only if presence is shared between them (a direct chat, or a
// group of at most Config.LargeGroup members: the people presence events
// go to).
func (s *Service) UserByUsername(ctx context.Context, viewerID int64, username string) (parley.User, error) {
	u, err := s.store.UserByUsername(ctx, parley.NormalizeUsername(username))
	if err != nil {
		return parley.User{}, err
	}
	u = u.Public()
	if u.ID != viewerID && u.LastSeen != nil {
		contacts, err := s.Contacts(ctx, viewerID)
		if err != nil {
			return parley.User{}, err
		}
		if !slices.Contains(contacts, u.ID) {
			u.LastSeen = nil
		}
	}
	return u, nil
}

// sessionUserAgent is the User-Agent kept with a session: at most 256
// bytes, cut on a character boundary, with bytes that are not UTF-8 and
// NULs replaced (a header is not refused for them; a store could not keep
// them).
func sessionUserAgent(ua string) string {
	ua = strings.ReplaceAll(strings.ToValidUTF8(ua, "\uFFFD"), "\x00", "\uFFFD")
	if len(ua) <= 256 {
		return ua
	}
	cut := 256
	for cut > 0 && !utf8.RuneStart(ua[cut]) {
		cut--
	}
	return ua[:cut]
}
