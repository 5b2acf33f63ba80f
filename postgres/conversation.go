package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"parley"
)

const conversationColumns = `c.id, c.kind, c.name, coalesce(c.code, ''), c.created_at,
	c.last_seq, c.last_mod, c.last_activity, c.member_count, coalesce(c.photo_key, '')`

func conversationDest(c *parley.Conversation) []any {
	return []any{&c.ID, &c.Kind, &c.Name, &c.Code, &c.CreatedAt, &c.LastSeq, &c.LastMod, &c.LastActivity, &c.MemberCount,
		&c.PhotoKey}
}

func fixConversation(c *parley.Conversation) {
	c.CreatedAt, c.LastActivity = utc(c.CreatedAt), utc(c.LastActivity)
	c.PhotoURL = parley.GroupPhotoURL(c.ID, c.PhotoKey)
}

func scanConversation(row pgx.Row) (parley.Conversation, error) {
	var c parley.Conversation
	if err := row.Scan(conversationDest(&c)...); err != nil {
		return parley.Conversation{}, err
	}
	fixConversation(&c)
	return c, nil
}

func conversation(ctx context.Context, q querier, id int64) (parley.Conversation, error) {
	c, err := scanConversation(q.QueryRow(ctx, `SELECT `+conversationColumns+` FROM conversations c WHERE c.id = $1`, id))
	return c, mapError(err)
}

// memberColumns selects a member from alias m and their user from alias u.
const memberColumns = `m.conversation_id, m.user_id, u.username, u.display_name, m.role, m.joined_at, m.delivered_seq, m.read_seq,
	coalesce(u.avatar_key, '')`

func scanMember(row pgx.Row) (parley.Member, error) {
	var (
		m      parley.Member
		avatar string
	)
	if err := row.Scan(&m.ConversationID, &m.UserID, &m.Username, &m.DisplayName, &m.Role, &m.JoinedAt, &m.DeliveredSeq, &m.ReadSeq, &avatar); err != nil {
		return parley.Member{}, err
	}
	m.JoinedAt, m.AvatarURL = utc(m.JoinedAt), parley.AvatarURL(m.UserID, avatar)
	return m, nil
}

func member(ctx context.Context, q querier, conversationID, userID int64) (parley.Member, error) {
	m, err := scanMember(q.QueryRow(ctx, `SELECT `+memberColumns+`
		FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.conversation_id = $1 AND m.user_id = $2`, conversationID, userID))
	return m, mapError(err)
}

// lockGroup locks a group's row (lockSQL) and returns its member count:
// ENOTFOUND if there is no such conversation, EINVALID for a direct one. The
// membership and group methods (AddMember, RemoveMember, SetRole,
// RenameGroup, SetCode) all start with it, so they refuse direct
// conversations with EINVALID.
func lockGroup(ctx context.Context, tx pgx.Tx, id int64) (memberCount int, err error) {
	var kind string
	if err := tx.QueryRow(ctx, lockSQL, id).Scan(&kind, &memberCount); err != nil {
		return 0, err
	}
	if kind != parley.KindGroup {
		return 0, parley.Errorf(parley.EINVALID, "This is not a group.")
	}
	return memberCount, nil
}

// CreateGroup creates a group owned by owner, with its SysCreated message.
func (s *Store) CreateGroup(ctx context.Context, name, code string, owner int64, now time.Time) (parley.Conversation, parley.Message, error) {
	now = utc(now)
	var (
		c   parley.Conversation
		sys parley.Message
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `
			INSERT INTO conversations (kind, name, code, created_at, last_activity, member_count)
			VALUES ('group', $1, $2, $3, $3, 1)
			RETURNING id`, name, code, now).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO members (conversation_id, user_id, role, joined_at)
			VALUES ($1, $2, 'owner', $3)`, id, owner, now); err != nil {
			return err
		}
		var err error
		sys, err = appendSystem(ctx, tx, id, owner, parley.SystemInfo{Event: parley.SysCreated, ActorID: owner, Name: name}, now)
		if err != nil {
			return err
		}
		c, err = conversation(ctx, tx, id)
		return err
	})
	if err != nil {
		return parley.Conversation{}, parley.Message{}, err
	}
	return c, sys, nil
}

// Direct returns the direct conversation of a and b, creating it if needed.
// The pair is stored ordered (direct_lo, direct_hi) under a unique index:
// of concurrent creations one inserts, the others wait for its commit and
// find its row. Members are stored a first, then b. EINVALID if a == b,
// ENOTFOUND if either user does not exist.
func (s *Store) Direct(ctx context.Context, a, b int64, now time.Time) (parley.Conversation, bool, error) {
	if a == b {
		return parley.Conversation{}, false, parley.Errorf(parley.EINVALID, "A direct conversation needs two people.")
	}
	lo, hi := min(a, b), max(a, b)
	existing := func() (parley.Conversation, error) {
		return scanConversation(s.pool.QueryRow(ctx, `SELECT `+conversationColumns+`
			FROM conversations c WHERE c.direct_lo = $1 AND c.direct_hi = $2`, lo, hi))
	}
	c, err := existing()
	if err == nil {
		return c, false, nil
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return parley.Conversation{}, false, mapError(err)
	}

	c, err = scanConversation(s.pool.QueryRow(ctx, `
		WITH c AS (
			INSERT INTO conversations (kind, direct_lo, direct_hi, created_at, last_activity, member_count)
			VALUES ('direct', $1, $2, $5, $5, 2)
			ON CONFLICT (direct_lo, direct_hi) DO NOTHING
			RETURNING *
		), m AS (
			INSERT INTO members (conversation_id, user_id, role, joined_at)
			SELECT c.id, x.user_id, 'member', $5
			FROM c, unnest(ARRAY[$3::bigint, $4::bigint]) WITH ORDINALITY AS x (user_id, n)
			ORDER BY x.n
		)
		SELECT `+conversationColumns+` FROM c`, lo, hi, a, b, utc(now)))
	if err == nil {
		return c, true, nil
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return parley.Conversation{}, false, mapError(err)
	}
	// Someone else created it meanwhile.
	c, err = existing()
	return c, false, mapError(err)
}

// Conversation returns a conversation by id.
func (s *Store) Conversation(ctx context.Context, id int64) (parley.Conversation, error) {
	return conversation(ctx, s.pool, id)
}

// GroupByCode returns a group by join code, without regard to case.
func (s *Store) GroupByCode(ctx context.Context, code string) (parley.Conversation, error) {
	c, err := scanConversation(s.pool.QueryRow(ctx, `SELECT `+conversationColumns+`
		FROM conversations c WHERE lower(c.code) = lower($1)`, code))
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.Conversation{}, parley.Errorf(parley.EGROUPNOTFOUND, "No group has this code.")
	}
	return c, mapError(err)
}

// Member returns a current member.
func (s *Store) Member(ctx context.Context, conversationID, userID int64) (parley.Member, error) {
	return member(ctx, s.pool, conversationID, userID)
}

// Members lists current members ordered by join time (and join order for
// equal times).
func (s *Store) Members(ctx context.Context, conversationID int64) ([]parley.Member, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+memberColumns+`
		FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.conversation_id = $1
		ORDER BY m.joined_at, m.join_order`, conversationID)
	if err != nil {
		return nil, mapError(err)
	}
	ms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.Member, error) { return scanMember(row) })
	return ms, mapError(err)
}

// ConversationIDs lists the ids of userID's conversations, ascending.
func (s *Store) ConversationIDs(ctx context.Context, userID int64) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT conversation_id FROM members WHERE user_id = $1 ORDER BY conversation_id`, userID)
	if err != nil {
		return nil, mapError(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, mapError(err)
}

// Conversations lists userID's conversations, newest activity first (then
// highest id). A direct conversation's Peer is the other member as others
// see them (no email).
func (s *Store) Conversations(ctx context.Context, userID int64) ([]parley.ConversationSummary, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+conversationColumns+`, m.role, m.read_seq, m.delivered_seq,
			`+messageColumns("lm", "lu")+`,
			p.id, p.username, p.display_name, p.accepting_messages, p.created_at, p.last_seen, p.avatar_key,
			m.notify_level, m.muted_until,
			(SELECT count(*) FROM mentions mn
				WHERE mn.user_id = m.user_id AND mn.conversation_id = c.id AND mn.seq > m.read_seq)
		FROM members m
		JOIN conversations c ON c.id = m.conversation_id
		LEFT JOIN messages lm ON lm.conversation_id = c.id AND lm.seq = c.last_seq
		LEFT JOIN users lu ON lu.id = lm.sender_id
		LEFT JOIN users p ON c.kind = 'direct'
			AND p.id = CASE WHEN c.direct_lo = m.user_id THEN c.direct_hi ELSE c.direct_lo END
		WHERE m.user_id = $1
		ORDER BY c.last_activity DESC, c.id DESC`, userID)
	if err != nil {
		return nil, mapError(err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.ConversationSummary, error) {
		var (
			cs    parley.ConversationSummary
			last  messageScan
			peer  parley.User
			pid   *int64
			pname *string
			pdisp *string
			pacc  *bool
			pcrt  *time.Time
			pav   *string
		)
		dest := append(conversationDest(&cs.Conversation), &cs.Role, &cs.ReadSeq, &cs.DeliveredSeq)
		dest = append(dest, last.dest()...)
		dest = append(dest, &pid, &pname, &pdisp, &pacc, &pcrt, &peer.LastSeen, &pav,
			&cs.Notify.Level, &cs.Notify.MutedUntil, &cs.UnreadMentions)
		if err := row.Scan(dest...); err != nil {
			return cs, err
		}
		cs.Notify.MutedUntil = utcp(cs.Notify.MutedUntil)
		fixConversation(&cs.Conversation)
		cs.Unread = cs.LastSeq - cs.ReadSeq
		m, err := last.message()
		if err != nil {
			return cs, err
		}
		if m.ID != 0 {
			cs.LastMessage = &m
		}
		if pid != nil {
			peer.ID, peer.Username, peer.DisplayName = *pid, deref(pname), deref(pdisp)
			peer.AcceptingMessages = pacc != nil && *pacc
			peer.Deleted = parley.IsDeletedUsername(peer.Username)
			if pcrt != nil {
				peer.CreatedAt = utc(*pcrt)
			}
			peer.LastSeen = utcp(peer.LastSeen)
			peer.AvatarKey = deref(pav)
			peer.AvatarURL = parley.AvatarURL(peer.ID, peer.AvatarKey)
			cs.Peer = &peer
		}
		return cs, nil
	})
	return list, mapError(err)
}

// Contacts lists, ascending, the distinct users who share with userID a
// direct conversation or a group of at most maxGroup members.
func (s *Store) Contacts(ctx context.Context, userID int64, maxGroup int) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT DISTINCT o.user_id
		FROM members me
		JOIN conversations c ON c.id = me.conversation_id
		JOIN members o ON o.conversation_id = me.conversation_id AND o.user_id <> me.user_id
		WHERE me.user_id = $1 AND (c.kind = 'direct' OR c.member_count <= $2)
		ORDER BY o.user_id`, userID, maxGroup)
	if err != nil {
		return nil, mapError(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, mapError(err)
}

// AddMember adds userID to a group. maxMembers <= 0 means
// parley.DefaultMaxMembers.
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
	if maxMembers <= 0 {
		maxMembers = parley.DefaultMaxMembers
	}
	now = utc(now)
	var (
		m     parley.Member
		added bool
		sys   parley.Message
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		count, err := lockGroup(ctx, tx, conversationID)
		if err != nil {
			return err
		}
		m, err = member(ctx, tx, conversationID, userID)
		if err == nil {
			return nil // already a member
		} else if parley.ErrorCode(err) != parley.ENOTFOUND {
			return err
		}
		info := parley.SystemInfo{Event: parley.SysJoined, ActorID: userID, TargetID: userID}
		if actor == userID {
			var banned bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM bans WHERE conversation_id = $1 AND user_id = $2)`,
				conversationID, userID).Scan(&banned); err != nil {
				return err
			}
			if banned {
				return errBanned
			}
		} else {
			if _, err := tx.Exec(ctx, `DELETE FROM bans WHERE conversation_id = $1 AND user_id = $2`, conversationID, userID); err != nil {
				return err
			}
			info = parley.SystemInfo{Event: parley.SysAdded, ActorID: actor, TargetID: userID}
		}
		if count >= maxMembers {
			return parley.Errorf(parley.EGROUPFULL, "This group is full (%d members).", maxMembers)
		}
		if _, err := tx.Exec(ctx, `
			WITH ins AS (
				INSERT INTO members (conversation_id, user_id, role, joined_at) VALUES ($1, $2, 'member', $3)
			)
			UPDATE conversations SET member_count = member_count + 1 WHERE id = $1`,
			conversationID, userID, now); err != nil {
			return err
		}
		sys, err = appendSystem(ctx, tx, conversationID, actor, info, now)
		if err != nil {
			return err
		}
		added = true
		m, err = member(ctx, tx, conversationID, userID)
		return err
	})
	if err != nil {
		return parley.Member{}, false, parley.Message{}, err
	}
	return m, added, sys, nil
}

// errBanned refuses a banned person's join by code.
var errBanned = parley.Errorf(parley.EFORBIDDEN, "You were removed from this group; only an admin can add you back.")

// Ban returns userID's ban from a group.
func (s *Store) Ban(ctx context.Context, conversationID, userID int64) (parley.Ban, error) {
	b := parley.Ban{ConversationID: conversationID, UserID: userID}
	var by *int64
	err := s.pool.QueryRow(ctx, `SELECT banned_by, banned_at FROM bans WHERE conversation_id = $1 AND user_id = $2`,
		conversationID, userID).Scan(&by, &b.At)
	if err != nil {
		return parley.Ban{}, mapError(err)
	}
	if by != nil {
		b.By = *by
	}
	b.At = utc(b.At)
	return b, nil
}

// RemoveMember ends userID's membership of a group. When the last owner
// leaves, the longest-standing admin, or else member, becomes owner.
func (s *Store) RemoveMember(ctx context.Context, conversationID, userID, actor int64, now time.Time) (parley.Message, error) {
	var sys parley.Message
	err := s.inTx(ctx, func(tx pgx.Tx) (err error) {
		sys, err = removeMember(ctx, tx, conversationID, userID, actor, now)
		return err
	})
	if err != nil {
		return parley.Message{}, err
	}
	return sys, nil
}

// removeMember is RemoveMember inside a transaction.
func removeMember(ctx context.Context, tx pgx.Tx, conversationID, userID, actor int64, now time.Time) (parley.Message, error) {
	if _, err := lockGroup(ctx, tx, conversationID); err != nil {
		return parley.Message{}, err
	}
	var role string
	if err := tx.QueryRow(ctx, `
		WITH del AS (
			DELETE FROM members WHERE conversation_id = $1 AND user_id = $2 RETURNING role
		), steps AS (
			DELETE FROM mark_steps WHERE conversation_id = $1 AND user_id = $2
		), cnt AS (
			UPDATE conversations SET member_count = member_count - 1
			WHERE id = $1 AND EXISTS (SELECT FROM del)
		)
		SELECT role FROM del`, conversationID, userID).Scan(&role); err != nil {
		return parley.Message{}, err
	}
	if role == parley.RoleOwner {
		if _, err := tx.Exec(ctx, `
			UPDATE members SET role = 'owner'
			WHERE conversation_id = $1
				AND NOT EXISTS (SELECT FROM members WHERE conversation_id = $1 AND role = 'owner')
				AND user_id = (
					SELECT user_id FROM members WHERE conversation_id = $1
					ORDER BY role = 'admin' DESC, joined_at, join_order
					LIMIT 1)`, conversationID); err != nil {
			return parley.Message{}, err
		}
	}
	event := parley.SysRemoved
	if actor == userID {
		event = parley.SysLeft
	} else if _, err := tx.Exec(ctx, `INSERT INTO bans (conversation_id, user_id, banned_by, banned_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (conversation_id, user_id) DO UPDATE SET banned_by = excluded.banned_by, banned_at = excluded.banned_at`,
		conversationID, userID, actor, utc(now)); err != nil {
		return parley.Message{}, err
	}
	return appendSystem(ctx, tx, conversationID, actor, parley.SystemInfo{Event: event, ActorID: actor, TargetID: userID}, now)
}

var roles = map[string]bool{parley.RoleOwner: true, parley.RoleAdmin: true, parley.RoleMember: true}

// SetRole changes a member's role. Making someone owner hands ownership
// over: the previous owner becomes admin in the same transaction. The
// owner's role changes only that way.
func (s *Store) SetRole(ctx context.Context, conversationID, userID int64, role string, actor int64, now time.Time) (parley.Member, parley.Message, error) {
	if !roles[role] {
		return parley.Member{}, parley.Message{}, parley.FieldErrorf("role", "Role must be owner, admin or member.")
	}
	var (
		m   parley.Member
		sys parley.Message
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockGroup(ctx, tx, conversationID); err != nil {
			return err
		}
		cur, err := member(ctx, tx, conversationID, userID)
		if err != nil {
			return err
		}
		switch {
		case cur.Role == parley.RoleOwner && role != parley.RoleOwner:
			return parley.FieldErrorf("role", "The owner stays owner until handing ownership to another member.")
		case role == parley.RoleOwner && cur.Role != parley.RoleOwner:
			if _, err := tx.Exec(ctx, `UPDATE members SET role = 'admin' WHERE conversation_id = $1 AND role = 'owner'`, conversationID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE members SET role = $3 WHERE conversation_id = $1 AND user_id = $2`,
			conversationID, userID, role); err != nil {
			return err
		}
		sys, err = appendSystem(ctx, tx, conversationID, actor,
			parley.SystemInfo{Event: parley.SysRoleChanged, ActorID: actor, TargetID: userID, Name: role}, now)
		if err != nil {
			return err
		}
		m, err = member(ctx, tx, conversationID, userID)
		return err
	})
	if err != nil {
		return parley.Member{}, parley.Message{}, err
	}
	return m, sys, nil
}

// changeGroup runs set (SQL assignments to conversations with $2 as arg) on
// a group and appends a system message with info.
func (s *Store) changeGroup(ctx context.Context, conversationID int64, set string, arg any, info parley.SystemInfo, now time.Time) (parley.Conversation, parley.Message, error) {
	var (
		c   parley.Conversation
		sys parley.Message
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockGroup(ctx, tx, conversationID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE conversations SET `+set+` WHERE id = $1`, conversationID, arg); err != nil {
			return err
		}
		var err error
		if sys, err = appendSystem(ctx, tx, conversationID, info.ActorID, info, now); err != nil {
			return err
		}
		c, err = conversation(ctx, tx, conversationID)
		return err
	})
	if err != nil {
		return parley.Conversation{}, parley.Message{}, err
	}
	return c, sys, nil
}

// RenameGroup renames a group.
func (s *Store) RenameGroup(ctx context.Context, conversationID int64, name string, actor int64, now time.Time) (parley.Conversation, parley.Message, error) {
	return s.changeGroup(ctx, conversationID, `name = $2`, name,
		parley.SystemInfo{Event: parley.SysRenamed, ActorID: actor, Name: name}, now)
}

// SetCode sets a group's join code; ECODETAKEN if another group has it
// (without regard to case).
func (s *Store) SetCode(ctx context.Context, conversationID int64, code string, actor int64, now time.Time) (parley.Conversation, parley.Message, error) {
	return s.changeGroup(ctx, conversationID, `code = $2`, code,
		parley.SystemInfo{Event: parley.SysCodeRotated, ActorID: actor}, now)
}
