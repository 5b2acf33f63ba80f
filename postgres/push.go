package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"parley"
)

// Notification settings, mentions and Web Push (parley.NotifyStore,
// parley.PushStore).
//
// Locks: ClaimPushes locks the conversations of its claims (lockSQL,
// ascending id) before their member rows, the order every history change
// follows. DuePushChecks and ClaimPendingPushes skip rows that others hold
// (SKIP LOCKED), so they never wait in a cycle; FinishPushCheck and the
// other methods change one row per statement.

// MemberIDsByUsername returns the ids of the members with those usernames.
func (s *Store) MemberIDsByUsername(ctx context.Context, conversationID int64, usernames []string) ([]int64, error) {
	if len(usernames) == 0 {
		return nil, nil
	}
	return s.ids(ctx, `SELECT m.user_id FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.conversation_id = $1 AND lower(u.username) = ANY($2::text[])`, conversationID, usernames)
}

// ids runs a query of one bigint column.
func (s *Store) ids(ctx context.Context, sql string, args ...any) ([]int64, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapError(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, mapError(err)
}

// UpdateNotifySettings changes a member's notification settings.
func (s *Store) UpdateNotifySettings(ctx context.Context, conversationID, userID int64, upd parley.NotifyUpdate) (parley.NotifySettings, error) {
	var ns parley.NotifySettings
	err := s.pool.QueryRow(ctx, `UPDATE members SET notify_level = coalesce($3, notify_level),
			muted_until = CASE WHEN $4 THEN $5 ELSE muted_until END
		WHERE conversation_id = $1 AND user_id = $2 RETURNING notify_level, muted_until`,
		conversationID, userID, upd.Level, upd.Mute, utcp(upd.MutedUntil)).Scan(&ns.Level, &ns.MutedUntil)
	if err != nil {
		return parley.NotifySettings{}, mapError(err)
	}
	ns.MutedUntil = utcp(ns.MutedUntil)
	return ns, nil
}

func scanVAPIDKey(row pgx.Row) (parley.VAPIDKey, error) {
	var k parley.VAPIDKey
	err := row.Scan(&k.Public, &k.Private, &k.CreatedAt)
	k.CreatedAt = utc(k.CreatedAt)
	return k, mapError(err)
}

// VAPIDKey returns the stored VAPID key.
func (s *Store) VAPIDKey(ctx context.Context) (parley.VAPIDKey, error) {
	return scanVAPIDKey(s.pool.QueryRow(ctx, `SELECT public_key, private_key, created_at FROM vapid_keys WHERE id = 1`))
}

// InitVAPIDKey stores k unless a key exists and returns the stored key.
// Nodes that start together race on the primary key: one insert wins and
// the others read its key.
func (s *Store) InitVAPIDKey(ctx context.Context, k parley.VAPIDKey) (parley.VAPIDKey, error) {
	_, err := s.pool.Exec(ctx, `INSERT INTO vapid_keys (id, public_key, private_key, created_at) VALUES (1, $1, $2, $3)
		ON CONFLICT (id) DO NOTHING`, k.Public, k.Private, utc(k.CreatedAt))
	if err != nil {
		return parley.VAPIDKey{}, mapError(err)
	}
	return s.VAPIDKey(ctx)
}

// RotateVAPIDKey replaces the key and deletes every subscription.
func (s *Store) RotateVAPIDKey(ctx context.Context, k parley.VAPIDKey) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO vapid_keys (id, public_key, private_key, created_at) VALUES (1, $1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET public_key = excluded.public_key, private_key = excluded.private_key,
				created_at = excluded.created_at`, k.Public, k.Private, utc(k.CreatedAt))
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM push_subscriptions`)
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

const subColumns = `id, user_id, endpoint, p256dh, auth, label, created_at, last_used`

func scanSubscription(row pgx.Row) (parley.PushSubscription, error) {
	var p parley.PushSubscription
	err := row.Scan(&p.ID, &p.UserID, &p.Endpoint, &p.P256dh, &p.Auth, &p.Label, &p.CreatedAt, &p.LastUsed)
	p.CreatedAt, p.LastUsed = utc(p.CreatedAt), utc(p.LastUsed)
	return p, err
}

// AddPushSubscription stores or replaces (by endpoint) a subscription.
func (s *Store) AddPushSubscription(ctx context.Context, sub *parley.PushSubscription, max int) error {
	in := *sub
	var out parley.PushSubscription
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// An endpoint that changes hands starts afresh: its pending pushes
		// were meant for the previous owner.
		if _, err := tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id <> $2`,
			in.Endpoint, in.UserID); err != nil {
			return err
		}
		var err error
		out, err = scanSubscription(tx.QueryRow(ctx, `
			INSERT INTO push_subscriptions (user_id, endpoint, host, p256dh, auth, label, created_at, last_used)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
			ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh,
				auth = excluded.auth, label = excluded.label,
				last_used = greatest(push_subscriptions.last_used, excluded.last_used)
			RETURNING `+subColumns,
			in.UserID, in.Endpoint, parley.PushHost(in.Endpoint), in.P256dh, in.Auth, in.Label, utc(in.LastUsed)))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE id IN (
			SELECT id FROM push_subscriptions WHERE user_id = $1 AND id <> $2
			ORDER BY last_used DESC, id DESC OFFSET $3)`, in.UserID, out.ID, max-1)
		return err
	})
	if err != nil {
		return err
	}
	*sub = out
	return nil
}

// PushSubscriptions lists a user's subscriptions, oldest first.
func (s *Store) PushSubscriptions(ctx context.Context, userID int64) ([]parley.PushSubscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subColumns+` FROM push_subscriptions
		WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, mapError(err)
	}
	subs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.PushSubscription, error) { return scanSubscription(row) })
	if subs == nil {
		subs = []parley.PushSubscription{}
	}
	return subs, mapError(err)
}

// DeletePushSubscription deletes one of the user's subscriptions.
func (s *Store) DeletePushSubscription(ctx context.Context, userID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM push_subscriptions WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return mapError(err)
	}
	if tag.RowsAffected() == 0 {
		return parley.ErrNotFound
	}
	return nil
}

// ExpirePushSubscriptions deletes the subscriptions unused since before.
func (s *Store) ExpirePushSubscriptions(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM push_subscriptions WHERE last_used < $1`, utc(before))
	return int(tag.RowsAffected()), mapError(err)
}

// DuePushChecks takes the conversations whose push decision is due.
// Conversations an append holds are skipped: they are taken at a later
// poll.
func (s *Store) DuePushChecks(ctx context.Context, due, until time.Time, limit int) ([]int64, error) {
	return s.ids(ctx, `UPDATE conversations SET notify_from = $2
		WHERE id IN (SELECT id FROM conversations WHERE notify_from <= $1
			ORDER BY notify_from LIMIT $3 FOR NO KEY UPDATE SKIP LOCKED)
		RETURNING id`, utc(due), utc(until), limit)
}

// PushCheck reads a conversation for the push decision.
func (s *Store) PushCheck(ctx context.Context, conversationID int64, maxMessages int) (parley.PushCheck, error) {
	var pc parley.PushCheck
	c, err := conversation(ctx, s.pool, conversationID)
	if err != nil {
		return pc, err
	}
	pc.Conversation = c
	rows, err := s.pool.Query(ctx, `
		SELECT m.user_id, m.delivered_seq, m.pushed_seq, m.notify_level, m.muted_until, u.hide_notification_text,
			(SELECT coalesce(sum(c2.last_seq - m2.read_seq), 0) FROM members m2
				JOIN conversations c2 ON c2.id = m2.conversation_id WHERE m2.user_id = m.user_id)
		FROM members m JOIN users u ON u.id = m.user_id
		WHERE m.conversation_id = $1 AND m.delivered_seq < $2 AND m.pushed_seq < $2
			AND EXISTS (SELECT FROM push_subscriptions ps WHERE ps.user_id = m.user_id)
		ORDER BY m.user_id`, conversationID, c.LastSeq)
	if err != nil {
		return pc, mapError(err)
	}
	pc.Members, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.PushMember, error) {
		var m parley.PushMember
		err := row.Scan(&m.UserID, &m.DeliveredSeq, &m.PushedSeq, &m.Settings.Level, &m.Settings.MutedUntil, &m.HideText, &m.Unread)
		m.Settings.MutedUntil = utcp(m.Settings.MutedUntil)
		return m, err
	})
	if err != nil || len(pc.Members) == 0 {
		return pc, mapError(err)
	}
	lo := c.LastSeq
	for _, m := range pc.Members {
		lo = min(lo, max(m.DeliveredSeq, m.PushedSeq))
	}
	rows, err = s.pool.Query(ctx, selectMessage+`
		WHERE m.conversation_id = $1 AND m.seq > $2 AND m.seq <= $3 AND m.kind = 'text' AND m.deleted_at IS NULL
		ORDER BY m.seq DESC LIMIT $4`, conversationID, lo, c.LastSeq, maxMessages)
	if err != nil {
		return pc, mapError(err)
	}
	pc.Messages, err = collectMessages(rows)
	slices.Reverse(pc.Messages)
	return pc, err
}

// claimSQL moves member $2's pushed_seq in conversation $1 from $3 to $5
// if their delivered_seq is still $4, and then, if $12, queues a pending
// push for each of their subscriptions. It returns 1 if the claim took
// effect, else 0.
const claimSQL = `
WITH c AS (
	UPDATE members SET pushed_seq = $5
	WHERE conversation_id = $1 AND user_id = $2 AND pushed_seq = $3 AND delivered_seq = $4
	RETURNING user_id
), q AS (
	INSERT INTO pending_pushes (subscription_id, payload, urgency, topic, ttl, since, due_at)
	SELECT ps.id, $6, $7, $8, $9, $10, $11 FROM push_subscriptions ps JOIN c ON ps.user_id = c.user_id
	WHERE $12::boolean
)
SELECT count(*) FROM c`

// ClaimPushes records push decisions and queues their pushes, in one
// transaction and one round trip.
func (s *Store) ClaimPushes(ctx context.Context, claims []parley.PushClaim) ([]bool, error) {
	done := make([]bool, len(claims))
	if len(claims) == 0 {
		return done, nil
	}
	var convs []int64
	for _, c := range claims {
		convs = append(convs, c.ConversationID)
	}
	slices.Sort(convs)
	convs = slices.Compact(convs)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, id := range convs {
			b.Queue(lockSQL, id)
		}
		for _, c := range claims {
			n := c.Push
			if n == nil {
				n = &parley.PushNotice{}
			}
			b.Queue(claimSQL, c.ConversationID, c.UserID, c.FromPushed, c.FromDelivered, c.ToSeq,
				n.Payload, n.Urgency, n.Topic, int(n.TTL/time.Second), utc(n.Since), utc(n.Due), c.Push != nil)
		}
		br := tx.SendBatch(ctx, b)
		for range convs {
			var (
				kind  string
				count int
			)
			if err := br.QueryRow().Scan(&kind, &count); err != nil && err != pgx.ErrNoRows {
				br.Close()
				return err
			}
		}
		for i := range claims {
			var n int
			if err := br.QueryRow().Scan(&n); err != nil {
				br.Close()
				return err
			}
			done[i] = n == 1
		}
		return br.Close()
	})
	if err != nil {
		return nil, err
	}
	return done, nil
}

// FinishPushCheck sets when the conversation's next check is due.
func (s *Store) FinishPushCheck(ctx context.Context, conversationID, checkedSeq int64, next *time.Time, now time.Time) error {
	other := utc(now)
	if next != nil && next.Before(now) {
		other = utc(*next)
	}
	_, err := s.pool.Exec(ctx, `UPDATE conversations
		SET notify_from = CASE WHEN last_seq = $2 THEN $3::timestamptz ELSE $4 END WHERE id = $1`,
		conversationID, checkedSeq, utcp(next), other)
	return mapError(err)
}

// queuePushSQL queues a pending push for every subscription of user $7.
const queuePushSQL = `INSERT INTO pending_pushes (subscription_id, payload, urgency, topic, ttl, since, due_at)
	SELECT id, $1, $2, $3, $4, $5, $6 FROM push_subscriptions WHERE user_id = $7`

// QueuePush queues n for every subscription of userID.
func (s *Store) QueuePush(ctx context.Context, userID int64, n parley.PushNotice) (int, error) {
	tag, err := s.pool.Exec(ctx, queuePushSQL, n.Payload, n.Urgency, n.Topic, int(n.TTL/time.Second),
		utc(n.Since), utc(n.Due), userID)
	return int(tag.RowsAffected()), mapError(err)
}

// ClaimPendingPushes takes pending pushes that are due and not held.
func (s *Store) ClaimPendingPushes(ctx context.Context, now, until time.Time, skipHosts []string, limit int) ([]parley.PendingPush, error) {
	if skipHosts == nil {
		skipHosts = []string{} // <> ALL(NULL) would match nothing
	}
	rows, err := s.pool.Query(ctx, `
		WITH p AS (
			UPDATE pending_pushes SET held_until = $2
			WHERE id IN (
				SELECT p2.id FROM pending_pushes p2 JOIN push_subscriptions s2 ON s2.id = p2.subscription_id
				WHERE p2.due_at <= $1 AND (p2.held_until IS NULL OR p2.held_until <= $1) AND s2.host <> ALL($3::text[])
				ORDER BY p2.due_at LIMIT $4
				FOR UPDATE OF p2 SKIP LOCKED)
			RETURNING *
		)
		SELECT p.id, p.subscription_id, s.user_id, s.endpoint, s.p256dh, s.auth, s.host,
			p.payload, p.urgency, p.topic, p.ttl, p.since, p.attempts
		FROM p JOIN push_subscriptions s ON s.id = p.subscription_id
		ORDER BY p.due_at, p.id`, utc(now), utc(until), skipHosts, limit)
	if err != nil {
		return nil, mapError(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (parley.PendingPush, error) {
		var (
			p   parley.PendingPush
			ttl int
		)
		err := row.Scan(&p.ID, &p.SubscriptionID, &p.UserID, &p.Endpoint, &p.P256dh, &p.Auth, &p.Host,
			&p.Payload, &p.Urgency, &p.Topic, &ttl, &p.Since, &p.Attempts)
		p.TTL, p.Since = time.Duration(ttl)*time.Second, utc(p.Since)
		return p, err
	})
	return out, mapError(err)
}

// PushSent deletes a delivered pending push and marks its subscription used.
func (s *Store) PushSent(ctx context.Context, id int64, at time.Time) error {
	_, err := s.pool.Exec(ctx, `
		WITH d AS (DELETE FROM pending_pushes WHERE id = $1 RETURNING subscription_id)
		UPDATE push_subscriptions s SET last_used = greatest(s.last_used, $2) FROM d WHERE s.id = d.subscription_id`,
		id, utc(at))
	return mapError(err)
}

// RetryPush releases a pending push to be sent again at due.
func (s *Store) RetryPush(ctx context.Context, id int64, due time.Time, countAttempt bool) error {
	inc := 0
	if countAttempt {
		inc = 1
	}
	tag, err := s.pool.Exec(ctx, `UPDATE pending_pushes SET due_at = $2, held_until = NULL, attempts = attempts + $3
		WHERE id = $1`, id, utc(due), inc)
	if err != nil {
		return mapError(err)
	}
	if tag.RowsAffected() == 0 {
		return parley.ErrNotFound
	}
	return nil
}

// DropPush deletes a pending push.
func (s *Store) DropPush(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM pending_pushes WHERE id = $1`, id)
	return mapError(err)
}

// PushGone deletes a subscription the push service no longer knows.
func (s *Store) PushGone(ctx context.Context, subscriptionID int64) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM push_subscriptions WHERE id = $1`, subscriptionID)
	return mapError(err)
}
