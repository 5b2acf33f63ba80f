package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"time"

	"parley"
)

// Notification settings, mentions and Web Push (parley.NotifyStore,
// parley.PushStore). Lists passed to a query travel as one JSON array
// (json_each), so each query is one prepared statement whatever the list's
// length.

func jsonList[T any](v []T) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v) // numbers and strings always encode
	return string(b)
}

// MemberIDsByUsername returns the ids of the members with those usernames.
func (s *Store) MemberIDsByUsername(ctx context.Context, conversationID int64, usernames []string) ([]int64, error) {
	if len(usernames) == 0 {
		return nil, nil
	}
	return collect(ctx, s.rd, scanID, `
		SELECT mb.user_id FROM members mb JOIN users u ON u.id = mb.user_id
		WHERE mb.conversation_id = ? AND u.username IN (SELECT value FROM json_each(?))`,
		conversationID, jsonList(usernames))
}

// UpdateNotifySettings changes a member's notification settings.
func (s *Store) UpdateNotifySettings(ctx context.Context, conversationID, userID int64, upd parley.NotifyUpdate) (parley.NotifySettings, error) {
	var muted sql.NullInt64
	if upd.MutedUntil != nil {
		muted = sql.NullInt64{Int64: ts(*upd.MutedUntil), Valid: true}
	}
	var ns parley.NotifySettings
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		var until sql.NullInt64
		err := tx.QueryRowContext(ctx, `UPDATE members SET notify_level = COALESCE(?, notify_level),
				muted_until = CASE WHEN ? THEN ? ELSE muted_until END
			WHERE conversation_id = ? AND user_id = ? RETURNING notify_level, muted_until`,
			upd.Level, upd.Mute, muted, conversationID, userID).Scan(&ns.Level, &until)
		ns.MutedUntil = tmp(until)
		return err
	})
	if err != nil {
		return parley.NotifySettings{}, err
	}
	return ns, nil
}

// VAPIDKey returns the stored VAPID key.
func (s *Store) VAPIDKey(ctx context.Context) (parley.VAPIDKey, error) {
	return getVAPIDKey(ctx, s.rd)
}

func getVAPIDKey(ctx context.Context, q queryer) (parley.VAPIDKey, error) {
	var (
		k       parley.VAPIDKey
		created int64
	)
	err := q.QueryRowContext(ctx, `SELECT public_key, private_key, created_at FROM vapid_keys WHERE id = 1`).
		Scan(&k.Public, &k.Private, &created)
	k.CreatedAt = tm(created)
	return k, dbErr(err)
}

// InitVAPIDKey stores k unless a key exists and returns the stored key.
func (s *Store) InitVAPIDKey(ctx context.Context, k parley.VAPIDKey) (parley.VAPIDKey, error) {
	var stored parley.VAPIDKey
	err := s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		_, err = tx.ExecContext(ctx, `INSERT INTO vapid_keys (id, public_key, private_key, created_at) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, k.Public, k.Private, ts(k.CreatedAt))
		if err != nil {
			return err
		}
		stored, err = getVAPIDKey(ctx, tx)
		return err
	})
	return stored, err
}

// RotateVAPIDKey replaces the key and deletes every subscription.
func (s *Store) RotateVAPIDKey(ctx context.Context, k parley.VAPIDKey) (int, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO vapid_keys (id, public_key, private_key, created_at) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET public_key = excluded.public_key, private_key = excluded.private_key,
				created_at = excluded.created_at`, k.Public, k.Private, ts(k.CreatedAt))
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions`)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

const subCols = `id, user_id, endpoint, p256dh, auth, label, created_at, last_used`

func scanSubscription(sc scanner) (parley.PushSubscription, error) {
	var (
		p             parley.PushSubscription
		created, used int64
	)
	err := sc.Scan(&p.ID, &p.UserID, &p.Endpoint, &p.P256dh, &p.Auth, &p.Label, &created, &used)
	p.CreatedAt, p.LastUsed = tm(created), tm(used)
	return p, err
}

// AddPushSubscription stores or replaces (by endpoint) a subscription.
func (s *Store) AddPushSubscription(ctx context.Context, sub *parley.PushSubscription, max int) error {
	in := *sub
	in.LastUsed = tm(ts(in.LastUsed))
	var out parley.PushSubscription
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		// An endpoint that changes hands starts afresh: its pending pushes
		// were meant for the previous owner.
		if _, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE endpoint = ? AND user_id <> ?`,
			in.Endpoint, in.UserID); err != nil {
			return err
		}
		var err error
		out, err = scanSubscription(tx.QueryRowContext(ctx, `
			INSERT INTO push_subscriptions (user_id, endpoint, host, p256dh, auth, label, created_at, last_used)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
			ON CONFLICT (endpoint) DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth,
				label = excluded.label, last_used = max(last_used, excluded.last_used)
			RETURNING `+subCols,
			in.UserID, in.Endpoint, parley.PushHost(in.Endpoint), in.P256dh, in.Auth, in.Label, ts(in.LastUsed)))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE id IN (
			SELECT id FROM push_subscriptions WHERE user_id = ?1 AND id <> ?2
			ORDER BY last_used DESC, id DESC LIMIT -1 OFFSET ?3)`, in.UserID, out.ID, max-1)
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
	return collect(ctx, s.rd, scanSubscription, `SELECT `+subCols+` FROM push_subscriptions
		WHERE user_id = ? ORDER BY created_at, id`, userID)
}

// DeletePushSubscription deletes one of the user's subscriptions.
func (s *Store) DeletePushSubscription(ctx context.Context, userID, id int64) error {
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		return mustAffect(tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE id = ? AND user_id = ?`, id, userID))
	})
}

// ExpirePushSubscriptions deletes the subscriptions unused since before.
func (s *Store) ExpirePushSubscriptions(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE last_used < ?`, ts(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// DuePushChecks takes the conversations whose push decision is due.
func (s *Store) DuePushChecks(ctx context.Context, due, until time.Time, limit int) ([]int64, error) {
	// Look on the read pool first: most polls find nothing, and those
	// should not take the writer.
	ids, err := collect(ctx, s.rd, scanID, `SELECT id FROM conversations
		WHERE notify_from IS NOT NULL AND notify_from <= ? ORDER BY notify_from LIMIT ?`, ts(due), limit)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var taken []int64
	err = s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		// Quiet: notify_from is not a column the writer caches, and each
		// decision would otherwise evict the conversation's head.
		return tx.quietly(func() (err error) {
			taken, err = collect(ctx, tx, scanID, `UPDATE conversations SET notify_from = ?
				WHERE id IN (SELECT value FROM json_each(?)) AND notify_from <= ? RETURNING id`,
				ts(until), jsonList(ids), ts(due))
			return err
		})
	})
	return taken, err
}

// PushCheck reads a conversation for the push decision.
func (s *Store) PushCheck(ctx context.Context, conversationID int64, maxMessages int) (parley.PushCheck, error) {
	var pc parley.PushCheck
	c, err := getConv(ctx, s.rd, conversationID)
	if err != nil {
		return pc, err
	}
	pc.Conversation = c
	pc.Members, err = collect(ctx, s.rd, func(sc scanner) (parley.PushMember, error) {
		var (
			m     parley.PushMember
			muted sql.NullInt64
		)
		err := sc.Scan(&m.UserID, &m.DeliveredSeq, &m.PushedSeq, &m.Settings.Level, &muted, &m.HideText, &m.Unread)
		m.Settings.MutedUntil = tmp(muted)
		return m, err
	}, `
		SELECT mb.user_id, mb.delivered_seq, mb.pushed_seq, mb.notify_level, mb.muted_until, u.hide_notification_text,
			(SELECT COALESCE(sum(c2.last_seq - m2.read_seq), 0) FROM members m2
				JOIN conversations c2 ON c2.id = m2.conversation_id WHERE m2.user_id = mb.user_id)
		FROM members mb JOIN users u ON u.id = mb.user_id
		WHERE mb.conversation_id = ?1 AND mb.delivered_seq < ?2 AND mb.pushed_seq < ?2
			AND EXISTS (SELECT 1 FROM push_subscriptions ps WHERE ps.user_id = mb.user_id)
		ORDER BY mb.user_id`, conversationID, c.LastSeq)
	if err != nil || len(pc.Members) == 0 {
		return pc, err
	}
	lo := c.LastSeq
	for _, m := range pc.Members {
		lo = min(lo, max(m.DeliveredSeq, m.PushedSeq))
	}
	pc.Messages, err = collect(ctx, s.rd, scanMessage, `SELECT `+msgCols+` FROM `+msgFrom+`
		WHERE m.conversation_id = ? AND m.seq > ? AND m.seq <= ? AND m.kind = 'text' AND m.deleted_at IS NULL
		ORDER BY m.seq DESC LIMIT ?`, conversationID, lo, c.LastSeq, maxMessages)
	slices.Reverse(pc.Messages)
	return pc, err
}

// queuePushSQL queues a pending push for every subscription of user ?7.
const queuePushSQL = `INSERT INTO pending_pushes (subscription_id, payload, urgency, topic, ttl, since, due_at)
	SELECT id, ?1, ?2, ?3, ?4, ?5, ?6 FROM push_subscriptions WHERE user_id = ?7`

func queuePushArgs(userID int64, n *parley.PushNotice) []any {
	return []any{n.Payload, n.Urgency, n.Topic, int64(n.TTL / time.Second), ts(n.Since), ts(n.Due), userID}
}

// ClaimPushes records push decisions and queues their pushes.
func (s *Store) ClaimPushes(ctx context.Context, claims []parley.PushClaim) ([]bool, error) {
	done := make([]bool, len(claims))
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		for i, c := range claims {
			var res sql.Result
			// Quiet: pushed_seq is not cached by the writer (append.go).
			err := tx.quietly(func() (err error) {
				res, err = tx.ExecContext(ctx, `UPDATE members SET pushed_seq = ?
					WHERE conversation_id = ? AND user_id = ? AND pushed_seq = ? AND delivered_seq = ?`,
					c.ToSeq, c.ConversationID, c.UserID, c.FromPushed, c.FromDelivered)
				return err
			})
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			done[i] = n == 1
			if done[i] && c.Push != nil {
				if _, err := tx.ExecContext(ctx, queuePushSQL, queuePushArgs(c.UserID, c.Push)...); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return done, nil
}

// FinishPushCheck sets when the conversation's next check is due.
func (s *Store) FinishPushCheck(ctx context.Context, conversationID, checkedSeq int64, next *time.Time, now time.Time) error {
	var nextArg sql.NullInt64
	other := now
	if next != nil {
		nextArg = sql.NullInt64{Int64: ts(*next), Valid: true}
		if next.Before(now) {
			other = *next
		}
	}
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `UPDATE conversations
			SET notify_from = CASE WHEN last_seq = ? THEN ? ELSE ? END WHERE id = ?`,
			checkedSeq, nextArg, ts(other), conversationID)
		return err
	})
}

// QueuePush queues n for every subscription of userID.
func (s *Store) QueuePush(ctx context.Context, userID int64, n parley.PushNotice) (int, error) {
	var count int64
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, queuePushSQL, queuePushArgs(userID, &n)...)
		if err != nil {
			return err
		}
		count, err = res.RowsAffected()
		return err
	})
	return int(count), err
}

const pendingCols = `p.id, p.subscription_id, s.user_id, s.endpoint, s.p256dh, s.auth, s.host,
	p.payload, p.urgency, p.topic, p.ttl, p.since, p.attempts`

func scanPending(sc scanner) (parley.PendingPush, error) {
	var (
		p          parley.PendingPush
		ttl, since int64
	)
	err := sc.Scan(&p.ID, &p.SubscriptionID, &p.UserID, &p.Endpoint, &p.P256dh, &p.Auth, &p.Host,
		&p.Payload, &p.Urgency, &p.Topic, &ttl, &since, &p.Attempts)
	p.TTL, p.Since = time.Duration(ttl)*time.Second, tm(since)
	return p, err
}

// ClaimPendingPushes takes pending pushes that are due and not held.
func (s *Store) ClaimPendingPushes(ctx context.Context, now, until time.Time, skipHosts []string, limit int) ([]parley.PendingPush, error) {
	const due = `FROM pending_pushes p JOIN push_subscriptions s ON s.id = p.subscription_id
		WHERE p.due_at <= ?1 AND (p.held_until IS NULL OR p.held_until <= ?1)
			AND s.host NOT IN (SELECT value FROM json_each(?2))
		ORDER BY p.due_at LIMIT ?3`
	skip := jsonList(skipHosts)
	var any bool
	if err := s.rd.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 `+due+`)`, ts(now), skip, limit).Scan(&any); err != nil || !any {
		return nil, dbErr(err)
	}
	var out []parley.PendingPush
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		ids, err := collect(ctx, tx, scanID, `UPDATE pending_pushes SET held_until = ?4
			WHERE id IN (SELECT p.id `+due+`) RETURNING id`, ts(now), skip, limit, ts(until))
		if err != nil || len(ids) == 0 {
			return err
		}
		out, err = collect(ctx, tx, scanPending, `SELECT `+pendingCols+`
			FROM pending_pushes p JOIN push_subscriptions s ON s.id = p.subscription_id
			WHERE p.id IN (SELECT value FROM json_each(?)) ORDER BY p.due_at, p.id`, jsonList(ids))
		return err
	})
	return out, err
}

// PushSent deletes a delivered pending push and marks its subscription used.
func (s *Store) PushSent(ctx context.Context, id int64, at time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		var sub int64
		err := tx.QueryRowContext(ctx, `DELETE FROM pending_pushes WHERE id = ? RETURNING subscription_id`, id).Scan(&sub)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE push_subscriptions SET last_used = max(last_used, ?) WHERE id = ?`, ts(at), sub)
		return err
	})
}

// RetryPush releases a pending push to be sent again at due.
func (s *Store) RetryPush(ctx context.Context, id int64, due time.Time, countAttempt bool) error {
	inc := 0
	if countAttempt {
		inc = 1
	}
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		return mustAffect(tx.ExecContext(ctx, `UPDATE pending_pushes SET due_at = ?, held_until = NULL, attempts = attempts + ?
			WHERE id = ?`, ts(due), inc, id))
	})
}

// DropPush deletes a pending push.
func (s *Store) DropPush(ctx context.Context, id int64) error {
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM pending_pushes WHERE id = ?`, id)
		return err
	})
}

// PushGone deletes a subscription the push service no longer knows.
func (s *Store) PushGone(ctx context.Context, subscriptionID int64) error {
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE id = ?`, subscriptionID)
		return err
	})
}
