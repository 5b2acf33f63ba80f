package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"parley"
)

const convCols = `c.id, c.kind, c.name, COALESCE(c.code, ''), c.created_at, c.last_seq, c.last_mod, c.last_activity, c.member_count,
	COALESCE(c.photo_key, '')`

// scanConv scans convCols and then extra.
func scanConv(sc scanner, extra ...any) (parley.Conversation, error) {
	var (
		c                 parley.Conversation
		created, activity int64
	)
	dest := append([]any{&c.ID, &c.Kind, &c.Name, &c.Code, &created, &c.LastSeq, &c.LastMod, &activity, &c.MemberCount,
		&c.PhotoKey}, extra...)
	err := sc.Scan(dest...)
	c.CreatedAt, c.LastActivity = tm(created), tm(activity)
	c.PhotoURL = parley.GroupPhotoURL(c.ID, c.PhotoKey)
	return c, err
}

func getConv(ctx context.Context, q queryer, id int64) (parley.Conversation, error) {
	c, err := scanConv(q.QueryRowContext(ctx, `SELECT `+convCols+` FROM conversations c WHERE c.id = ?`, id))
	return c, dbErr(err)
}

// getGroup is getConv for a change only a group allows.
func getGroup(ctx context.Context, q queryer, id int64) (parley.Conversation, error) {
	c, err := getConv(ctx, q, id)
	if err == nil && c.Kind != parley.KindGroup {
		err = parley.Errorf(parley.EINVALID, "This is not a group.")
	}
	return c, err
}

const (
	memberCols = `mb.conversation_id, mb.user_id, u.username, u.display_name, mb.role, mb.joined_at, mb.delivered_seq, mb.read_seq,
		COALESCE(u.avatar_key, '')`
	memberFrom = `members mb JOIN users u ON u.id = mb.user_id`
)

func scanMember(sc scanner) (parley.Member, error) {
	var (
		m      parley.Member
		joined int64
		avatar string
	)
	err := sc.Scan(&m.ConversationID, &m.UserID, &m.Username, &m.DisplayName, &m.Role, &joined, &m.DeliveredSeq, &m.ReadSeq, &avatar)
	m.JoinedAt, m.AvatarURL = tm(joined), parley.AvatarURL(m.UserID, avatar)
	return m, err
}

func getMember(ctx context.Context, q queryer, conversationID, userID int64) (parley.Member, error) {
	m, err := scanMember(q.QueryRowContext(ctx,
		`SELECT `+memberCols+` FROM `+memberFrom+` WHERE mb.conversation_id = ? AND mb.user_id = ?`, conversationID, userID))
	return m, dbErr(err)
}

// codeTaken reports whether another conversation than id has code, without
// regard to case (the column is COLLATE NOCASE).
func codeTaken(ctx context.Context, tx *wtx, code string, id int64) error {
	var taken bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM conversations WHERE code = ? AND id <> ?)`, code, id).Scan(&taken)
	if err == nil && taken {
		err = parley.Errorf(parley.ECODETAKEN, "That code is taken.")
	}
	return err
}

// system appends a system message inside tx.
func system(ctx context.Context, tx *wtx, conversationID, sender int64, info parley.SystemInfo, now time.Time) (parley.Message, error) {
	m, _, err := appendTx(ctx, tx, parley.NewMessage{
		ConversationID: conversationID,
		SenderID:       sender,
		Kind:           parley.MessageSystem,
		System:         &info,
		CreatedAt:      now,
	})
	return m, err
}

// CreateGroup creates a group owned by owner and appends SysCreated.
func (s *Store) CreateGroup(ctx context.Context, name, code string, owner int64, now time.Time) (parley.Conversation, parley.Message, error) {
	var (
		c   parley.Conversation
		msg parley.Message
	)
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		if err := codeTaken(ctx, tx, code, 0); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRowContext(ctx, `
			INSERT INTO conversations (kind, name, code, created_at, last_activity, member_count)
			VALUES ('group', ?, ?, ?, ?, 1) RETURNING id`, name, code, ts(now), ts(now)).Scan(&id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (?, ?, 'owner', ?)`,
			id, owner, ts(now)); err != nil {
			return err
		}
		if msg, err = system(ctx, tx, id, owner, parley.SystemInfo{Event: parley.SysCreated, ActorID: owner, Name: name}, now); err != nil {
			return err
		}
		c, err = getConv(ctx, tx, id)
		return err
	})
	if err != nil {
		return parley.Conversation{}, parley.Message{}, err
	}
	return c, msg, nil
}

// Direct returns the direct conversation of a and b, creating it if needed.
func (s *Store) Direct(ctx context.Context, a, b int64, now time.Time) (parley.Conversation, bool, error) {
	if a == b {
		return parley.Conversation{}, false, parley.Errorf(parley.EINVALID, "A direct conversation needs two people.")
	}
	lo, hi := min(a, b), max(a, b)
	const find = `SELECT ` + convCols + ` FROM conversations c WHERE c.direct_lo = ? AND c.direct_hi = ?`
	// Most calls find the conversation: look on the read pool first.
	c, err := scanConv(s.rd.QueryRowContext(ctx, find, lo, hi))
	if err == nil {
		return c, false, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return c, false, dbErr(err)
	}

	var created bool
	err = s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		// Another write may have created it since the look above.
		if c, err = scanConv(tx.QueryRowContext(ctx, find, lo, hi)); !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var users int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id IN (?, ?)`, lo, hi).Scan(&users); err != nil {
			return err
		} else if users != 2 {
			return parley.ErrNotFound
		}
		var id int64
		err = tx.QueryRowContext(ctx, `
			INSERT INTO conversations (kind, direct_lo, direct_hi, created_at, last_activity, member_count)
			VALUES ('direct', ?, ?, ?, ?, 2) RETURNING id`, lo, hi, ts(now), ts(now)).Scan(&id)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO members (conversation_id, user_id, role, joined_at)
			VALUES (?1, ?2, 'member', ?4), (?1, ?3, 'member', ?4)`, id, a, b, ts(now))
		if err != nil {
			return err
		}
		created = true
		c, err = getConv(ctx, tx, id)
		return err
	})
	if err != nil {
		return parley.Conversation{}, false, err
	}
	return c, created, nil
}

// Conversation returns a conversation by id.
func (s *Store) Conversation(ctx context.Context, id int64) (parley.Conversation, error) {
	return getConv(ctx, s.rd, id)
}

// GroupByCode returns a group by join code, without regard to case.
func (s *Store) GroupByCode(ctx context.Context, code string) (parley.Conversation, error) {
	c, err := scanConv(s.rd.QueryRowContext(ctx, `SELECT `+convCols+` FROM conversations c WHERE c.code = ?`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return c, parley.Errorf(parley.EGROUPNOTFOUND, "No group has that code.")
	}
	return c, dbErr(err)
}

// Member returns a current member.
func (s *Store) Member(ctx context.Context, conversationID, userID int64) (parley.Member, error) {
	return getMember(ctx, s.rd, conversationID, userID)
}

// Members lists current members ordered by join time.
func (s *Store) Members(ctx context.Context, conversationID int64) ([]parley.Member, error) {
	return collect(ctx, s.rd, scanMember, `SELECT `+memberCols+` FROM `+memberFrom+`
		WHERE mb.conversation_id = ? ORDER BY mb.joined_at, mb.id`, conversationID)
}

// ConversationIDs lists the ids of userID's conversations.
func (s *Store) ConversationIDs(ctx context.Context, userID int64) ([]int64, error) {
	return collect(ctx, s.rd, scanID, `SELECT conversation_id FROM members WHERE user_id = ? ORDER BY conversation_id`, userID)
}

// Conversations lists userID's conversations, newest activity first.
func (s *Store) Conversations(ctx context.Context, userID int64) ([]parley.ConversationSummary, error) {
	return collect(ctx, s.rd, scanSummary, `
		SELECT `+convCols+`, me.role, me.delivered_seq, me.read_seq, `+msgCols+`,
			p.id, p.username, p.display_name, p.accepting_messages, p.created_at, p.last_seen, p.avatar_key,
			me.notify_level, me.muted_until,
			(SELECT count(*) FROM mentions mn
				WHERE mn.user_id = me.user_id AND mn.conversation_id = c.id AND mn.seq > me.read_seq)
		FROM members me
		JOIN conversations c ON c.id = me.conversation_id
		LEFT JOIN messages m ON m.conversation_id = c.id AND m.seq = c.last_seq
		LEFT JOIN users u ON u.id = m.sender_id
		LEFT JOIN members pm ON c.kind = 'direct' AND pm.conversation_id = c.id AND pm.user_id <> me.user_id
		LEFT JOIN users p ON p.id = pm.user_id
		WHERE me.user_id = ?
		ORDER BY c.last_activity DESC, c.id DESC`, userID)
}

func scanSummary(sc scanner) (parley.ConversationSummary, error) {
	var (
		cs   parley.ConversationSummary
		last msgRow
		peer struct {
			id, created, lastSeen sql.NullInt64
			username, displayName sql.NullString
			avatar                sql.NullString
			accepting             sql.NullBool
		}
	)
	dest := append([]any{&cs.Role, &cs.DeliveredSeq, &cs.ReadSeq}, last.dest()...)
	var muted sql.NullInt64
	dest = append(dest, &peer.id, &peer.username, &peer.displayName, &peer.accepting, &peer.created, &peer.lastSeen, &peer.avatar,
		&cs.Notify.Level, &muted, &cs.UnreadMentions)
	c, err := scanConv(sc, dest...)
	if err != nil {
		return cs, err
	}
	cs.Notify.MutedUntil = tmp(muted)
	cs.Conversation = c
	cs.Unread = c.LastSeq - cs.ReadSeq
	if last.ok() {
		m, err := last.message()
		if err != nil {
			return cs, err
		}
		cs.LastMessage = &m
	}
	if peer.id.Valid {
		cs.Peer = &parley.User{
			ID:                peer.id.Int64,
			Username:          peer.username.String,
			DisplayName:       peer.displayName.String,
			AcceptingMessages: peer.accepting.Bool,
			CreatedAt:         tm(peer.created.Int64),
			LastSeen:          tmp(peer.lastSeen),
			AvatarKey:         peer.avatar.String,
			AvatarURL:         parley.AvatarURL(peer.id.Int64, peer.avatar.String),
			Deleted:           parley.IsDeletedUsername(peer.username.String),
		}
	}
	return cs, nil
}

// Contacts lists the distinct users who share a direct conversation, or a
// group of at most maxGroup members, with userID.
func (s *Store) Contacts(ctx context.Context, userID int64, maxGroup int) ([]int64, error) {
	return collect(ctx, s.rd, scanID, `
		SELECT DISTINCT o.user_id
		FROM members me
		JOIN conversations c ON c.id = me.conversation_id
		JOIN members o ON o.conversation_id = me.conversation_id AND o.user_id <> me.user_id
		WHERE me.user_id = ? AND (c.kind = 'direct' OR c.member_count <= ?)
		ORDER BY o.user_id`, userID, maxGroup)
}

// AddMember adds userID to a group and appends SysJoined.
func (s *Store) AddMember(ctx context.Context, conversationID, userID int64, maxMembers int, now time.Time) (parley.Member, bool, parley.Message, error) {
	return s.addMember(ctx, conversationID, userID, userID, maxMembers, now)
}

// AddMemberBy adds userID on behalf of an admin, lifting any ban.
func (s *Store) AddMemberBy(ctx context.Context, conversationID, userID, actor int64, maxMembers int, now time.Time) (parley.Member, bool, parley.Message, error) {
	return s.addMember(ctx, conversationID, userID, actor, maxMembers, now)
}

// addMember adds userID: joining by code when actor is userID (refused
// while banned), else added by actor (lifting the ban).
func (s *Store) addMember(ctx context.Context, conversationID, userID, actor int64, maxMembers int, now time.Time) (parley.Member, bool, parley.Message, error) {
	var (
		m     parley.Member
		added bool
		msg   parley.Message
	)
	err := s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		c, err := getGroup(ctx, tx, conversationID)
		if err != nil {
			return err
		}
		if m, err = getMember(ctx, tx, conversationID, userID); !errors.Is(err, parley.ErrNotFound) {
			return err // a member already, or a failure
		}
		info := parley.SystemInfo{Event: parley.SysJoined, ActorID: userID}
		if actor == userID {
			var banned bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM bans WHERE conversation_id = ? AND user_id = ?)`,
				conversationID, userID).Scan(&banned); err != nil {
				return err
			}
			if banned {
				return errBanned
			}
		} else {
			if _, err := tx.ExecContext(ctx, `DELETE FROM bans WHERE conversation_id = ? AND user_id = ?`, conversationID, userID); err != nil {
				return err
			}
			info = parley.SystemInfo{Event: parley.SysAdded, ActorID: actor, TargetID: userID}
		}
		if c.MemberCount >= maxMembers {
			return parley.Errorf(parley.EGROUPFULL, "The group is full.")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES (?, ?, 'member', ?)`,
			conversationID, userID, ts(now)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET member_count = member_count + 1 WHERE id = ?`, conversationID); err != nil {
			return err
		}
		if msg, err = system(ctx, tx, conversationID, actor, info, now); err != nil {
			return err
		}
		added = true
		m, err = getMember(ctx, tx, conversationID, userID)
		return err
	})
	if err != nil {
		return parley.Member{}, false, parley.Message{}, err
	}
	return m, added, msg, nil
}

// errBanned refuses a banned person's join by code.
var errBanned = parley.Errorf(parley.EFORBIDDEN, "You were removed from this group; only an admin can add you back.")

// Ban returns userID's ban from a group.
func (s *Store) Ban(ctx context.Context, conversationID, userID int64) (parley.Ban, error) {
	b := parley.Ban{ConversationID: conversationID, UserID: userID}
	var by sql.NullInt64
	var at int64
	err := s.rd.QueryRowContext(ctx, `SELECT banned_by, banned_at FROM bans WHERE conversation_id = ? AND user_id = ?`,
		conversationID, userID).Scan(&by, &at)
	if err != nil {
		return parley.Ban{}, dbErr(err)
	}
	b.By, b.At = by.Int64, time.UnixMicro(at).UTC()
	return b, nil
}

// RemoveMember ends userID's membership and appends SysLeft or SysRemoved.
// When the owner leaves, the longest-standing admin, or else member, becomes
// owner.
func (s *Store) RemoveMember(ctx context.Context, conversationID, userID, actor int64, now time.Time) (parley.Message, error) {
	var msg parley.Message
	err := s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		msg, err = removeMember(ctx, tx, conversationID, userID, actor, now)
		return err
	})
	if err != nil {
		return parley.Message{}, err
	}
	return msg, nil
}

// removeMember is RemoveMember inside a write.
func removeMember(ctx context.Context, tx *wtx, conversationID, userID, actor int64, now time.Time) (parley.Message, error) {
	if _, err := getGroup(ctx, tx, conversationID); err != nil {
		return parley.Message{}, err
	}
	m, err := getMember(ctx, tx, conversationID, userID)
	if err != nil {
		return parley.Message{}, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM members WHERE conversation_id = ? AND user_id = ?`, conversationID, userID); err != nil {
		return parley.Message{}, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM mark_steps WHERE conversation_id = ? AND user_id = ?`, conversationID, userID); err != nil {
		return parley.Message{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE conversations SET member_count = member_count - 1 WHERE id = ?`, conversationID); err != nil {
		return parley.Message{}, err
	}
	if m.Role == parley.RoleOwner {
		_, err := tx.ExecContext(ctx, `
			UPDATE members SET role = 'owner' WHERE id = (
				SELECT id FROM members WHERE conversation_id = ?
				ORDER BY role = 'admin' DESC, joined_at, id LIMIT 1)`, conversationID)
		if err != nil {
			return parley.Message{}, err
		}
	}
	info := parley.SystemInfo{Event: parley.SysLeft, ActorID: userID, TargetID: userID}
	if actor != userID {
		info = parley.SystemInfo{Event: parley.SysRemoved, ActorID: actor, TargetID: userID}
		if _, err := tx.ExecContext(ctx, `INSERT INTO bans (conversation_id, user_id, banned_by, banned_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (conversation_id, user_id) DO UPDATE SET banned_by = excluded.banned_by, banned_at = excluded.banned_at`,
			conversationID, userID, actor, ts(now)); err != nil {
			return parley.Message{}, err
		}
	}
	return system(ctx, tx, conversationID, actor, info, now)
}

// SetRole changes a member's role and appends SysRoleChanged. Making a
// member owner hands ownership over: the previous owner becomes admin. The
// owner's own role changes only that way.
func (s *Store) SetRole(ctx context.Context, conversationID, userID int64, role string, actor int64, now time.Time) (parley.Member, parley.Message, error) {
	switch role {
	case parley.RoleOwner, parley.RoleAdmin, parley.RoleMember:
	default:
		return parley.Member{}, parley.Message{}, parley.FieldErrorf("role", "Role must be owner, admin or member.")
	}
	var (
		m   parley.Member
		msg parley.Message
	)
	err := s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		if _, err := getGroup(ctx, tx, conversationID); err != nil {
			return err
		}
		if m, err = getMember(ctx, tx, conversationID, userID); err != nil {
			return err
		}
		switch {
		case m.Role == parley.RoleOwner && role != parley.RoleOwner:
			return parley.FieldErrorf("role", "The owner stays owner until handing ownership to another member.")
		case role == parley.RoleOwner && m.Role != parley.RoleOwner:
			if _, err := tx.ExecContext(ctx, `UPDATE members SET role = 'admin' WHERE conversation_id = ? AND role = 'owner'`,
				conversationID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE members SET role = ? WHERE conversation_id = ? AND user_id = ?`,
			role, conversationID, userID); err != nil {
			return err
		}
		info := parley.SystemInfo{Event: parley.SysRoleChanged, ActorID: actor, TargetID: userID, Name: role}
		if msg, err = system(ctx, tx, conversationID, actor, info, now); err != nil {
			return err
		}
		m, err = getMember(ctx, tx, conversationID, userID)
		return err
	})
	if err != nil {
		return parley.Member{}, parley.Message{}, err
	}
	return m, msg, nil
}

// RenameGroup renames a group and appends SysRenamed.
func (s *Store) RenameGroup(ctx context.Context, conversationID int64, name string, actor int64, now time.Time) (parley.Conversation, parley.Message, error) {
	return s.changeGroup(ctx, conversationID, actor, now,
		parley.SystemInfo{Event: parley.SysRenamed, ActorID: actor, Name: name},
		func(ctx context.Context, tx *wtx) error {
			_, err := tx.ExecContext(ctx, `UPDATE conversations SET name = ? WHERE id = ?`, name, conversationID)
			return err
		})
}

// SetCode sets a group's join code and appends SysCodeRotated (without the
// code).
func (s *Store) SetCode(ctx context.Context, conversationID int64, code string, actor int64, now time.Time) (parley.Conversation, parley.Message, error) {
	return s.changeGroup(ctx, conversationID, actor, now,
		parley.SystemInfo{Event: parley.SysCodeRotated, ActorID: actor},
		func(ctx context.Context, tx *wtx) error {
			if err := codeTaken(ctx, tx, code, conversationID); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE conversations SET code = ? WHERE id = ?`, code, conversationID)
			return err
		})
}

// changeGroup runs change on an existing group, appends a system message
// with info, and returns the group afterwards.
func (s *Store) changeGroup(ctx context.Context, conversationID, actor int64, now time.Time, info parley.SystemInfo,
	change func(ctx context.Context, tx *wtx) error) (parley.Conversation, parley.Message, error) {
	var (
		c   parley.Conversation
		msg parley.Message
	)
	err := s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		if _, err := getGroup(ctx, tx, conversationID); err != nil {
			return err
		}
		if err := change(ctx, tx); err != nil {
			return err
		}
		if msg, err = system(ctx, tx, conversationID, actor, info, now); err != nil {
			return err
		}
		c, err = getConv(ctx, tx, conversationID)
		return err
	})
	if err != nil {
		return parley.Conversation{}, parley.Message{}, err
	}
	return c, msg, nil
}
