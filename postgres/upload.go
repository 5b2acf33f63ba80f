package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"parley"
)

// claimBlob takes a reference to blob key (size bytes) in tx (see
// parley.UploadStore, "Blob references"). The row lock the upsert takes
// orders it with a deleter's lease and with other claims and releases.
func claimBlob(ctx context.Context, tx pgx.Tx, key string, size int64, now time.Time) error {
	var refs int64
	err := tx.QueryRow(ctx, `
		INSERT INTO blobs (key, refs, size) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET refs = blobs.refs + 1, lease_until = NULL
			WHERE blobs.refs > 0 OR blobs.lease_until IS NULL OR blobs.lease_until < $3
		RETURNING refs`, key, size, utc(now.Add(-parley.BlobLeaseGrace))).Scan(&refs)
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.ErrBlobBusy
	}
	return err
}

// releaseBlobs releases a reference to each key ("" stands for none).
func releaseBlobs(ctx context.Context, tx pgx.Tx, keys ...string) error {
	for _, k := range keys {
		if k == "" {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE blobs SET refs = refs - 1 WHERE key = $1 AND refs > 0`, k); err != nil {
			return err
		}
	}
	return nil
}

const uploadColumns = `id, owner_id, blob_key, name, size, content_type, width, height, duration,
	coalesce(thumb_key, ''), created_at, coalesce(conversation_id, 0), coalesce(message_id, 0)`

func scanUpload(row pgx.Row) (parley.Upload, error) {
	var u parley.Upload
	err := row.Scan(&u.ID, &u.OwnerID, &u.Key, &u.Name, &u.Size, &u.ContentType, &u.Width, &u.Height, &u.Duration,
		&u.ThumbKey, &u.CreatedAt, &u.ConversationID, &u.MessageID)
	u.CreatedAt = utc(u.CreatedAt)
	return u, err
}

// CreateUpload stores an upload and takes a reference to its blob. The
// owner's row is locked first, so that concurrent uploads of one user are
// checked against the quota one after the other.
func (s *Store) CreateUpload(ctx context.Context, u *parley.Upload, quota int64, now time.Time) error {
	created := utc(now)
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var used int64
		err := tx.QueryRow(ctx, `
			WITH o AS (SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE)
			SELECT coalesce((SELECT sum(size) FROM uploads WHERE owner_id = $1), 0) FROM o`, u.OwnerID).Scan(&used)
		if err != nil {
			return err // no row: no such user
		}
		if used+u.Size > quota {
			return parley.ErrQuota
		}
		if err := claimBlob(ctx, tx, u.Key, u.Size, now); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO uploads (owner_id, blob_key, name, size, content_type, width, height,
			duration, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			u.OwnerID, u.Key, u.Name, u.Size, u.ContentType, u.Width, u.Height, u.Duration, created).Scan(&id)
	})
	if err != nil {
		return err
	}
	u.ID, u.CreatedAt = id, created
	return nil
}

// Upload returns an upload.
func (s *Store) Upload(ctx context.Context, id int64) (parley.Upload, error) {
	u, err := scanUpload(s.pool.QueryRow(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = $1`, id))
	return u, mapError(err)
}

// UploadUsage is the bytes of a user's uploads.
func (s *Store) UploadUsage(ctx context.Context, ownerID int64) (int64, error) {
	var used int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(size), 0) FROM uploads WHERE owner_id = $1`, ownerID).Scan(&used)
	return used, mapError(err)
}

// SetThumbnail records an upload's thumbnail if it has none.
func (s *Store) SetThumbnail(ctx context.Context, id int64, key string, size int64, now time.Time) (parley.Upload, error) {
	var u parley.Upload
	err := s.inTx(ctx, func(tx pgx.Tx) (err error) {
		u, err = scanUpload(tx.QueryRow(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = $1 FOR UPDATE`, id))
		if err != nil || u.ThumbKey != "" {
			return err
		}
		if err := claimBlob(ctx, tx, key, size, now); err != nil {
			return err
		}
		u.ThumbKey = key
		_, err = tx.Exec(ctx, `UPDATE uploads SET thumb_key = $2 WHERE id = $1`, id, key)
		return err
	})
	if err != nil {
		return parley.Upload{}, err
	}
	return u, nil
}

// deleteUploads runs query, a DELETE of uploads RETURNING their blob_key
// and thumb_key (or ”), releases those blobs, and returns how many uploads
// it deleted.
func deleteUploads(ctx context.Context, tx pgx.Tx, query string, args ...any) (int, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) ([2]string, error) {
		var k [2]string
		err := row.Scan(&k[0], &k[1])
		return k, err
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := releaseBlobs(ctx, tx, k[0], k[1]); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// CopyAttachments copies a message's attachments as new uploads of
// ownerID's, for a forward. The owner's row is locked first, as by
// CreateUpload, for the quota; then the message's, which a deletion
// updates: a deletion waits for the copy, or the copy sees the deletion.
func (s *Store) CopyAttachments(ctx context.Context, conversationID, seq, ownerID, quota int64, now time.Time) ([]parley.Upload, error) {
	created := utc(now)
	var out []parley.Upload
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out = nil
		var used int64
		err := tx.QueryRow(ctx, `
			WITH o AS (SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE)
			SELECT coalesce((SELECT sum(size) FROM uploads WHERE owner_id = $1), 0) FROM o
			WHERE EXISTS (SELECT FROM members WHERE conversation_id = $2 AND user_id = $1)`,
			ownerID, conversationID).Scan(&used)
		if err != nil {
			return err // no row: no such user, or not a member
		}
		m, err := scanMessage(tx.QueryRow(ctx, selectMessage+`WHERE m.conversation_id = $1 AND m.seq = $2 FOR SHARE OF m`,
			conversationID, seq))
		if err != nil {
			return err
		}
		if m.Kind != parley.MessageText || m.DeletedAt != nil {
			return parley.ErrNotFound
		}
		for _, a := range m.Attachments {
			u, err := scanUpload(tx.QueryRow(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = $1`, a.ID))
			if err != nil {
				return err // a message's attachments are its uploads
			}
			if used += u.Size; used > quota {
				return parley.ErrQuota
			}
			// The message's upload holds a reference to each blob: claims
			// never find them doomed.
			if err := claimBlob(ctx, tx, u.Key, u.Size, now); err != nil {
				return err
			}
			if u.ThumbKey != "" {
				var size int64
				if err := tx.QueryRow(ctx, `SELECT size FROM blobs WHERE key = $1`, u.ThumbKey).Scan(&size); err != nil {
					return err
				}
				if err := claimBlob(ctx, tx, u.ThumbKey, size, now); err != nil {
					return err
				}
			}
			c := u
			c.OwnerID, c.CreatedAt, c.ConversationID, c.MessageID = ownerID, created, 0, 0
			err = tx.QueryRow(ctx, `INSERT INTO uploads (owner_id, blob_key, name, size, content_type, width, height,
				duration, thumb_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nullif($9, ''), $10) RETURNING id`,
				c.OwnerID, c.Key, c.Name, c.Size, c.ContentType, c.Width, c.Height, c.Duration, c.ThumbKey, c.CreatedAt).Scan(&c.ID)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteUpload deletes one of the owner's uploads not attached.
func (s *Store) DeleteUpload(ctx context.Context, ownerID, id int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		n, err := deleteUploads(ctx, tx, `DELETE FROM uploads WHERE id = $1 AND owner_id = $2 AND message_id IS NULL
			RETURNING blob_key, coalesce(thumb_key, '')`, id, ownerID)
		if err == nil && n == 0 {
			err = parley.ErrNotFound
		}
		return err
	})
}

// DeleteOrphanUploads deletes uploads never attached, created before
// before. Rows another transaction holds (an upload being attached) are
// skipped.
func (s *Store) DeleteOrphanUploads(ctx context.Context, before time.Time, limit int) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx pgx.Tx) (err error) {
		n, err = deleteUploads(ctx, tx, `
			DELETE FROM uploads WHERE id IN (
				SELECT id FROM uploads WHERE message_id IS NULL AND created_at < $1
				ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)
			RETURNING blob_key, coalesce(thumb_key, '')`, utc(before), limit)
		return err
	})
	return n, err
}

// SetAvatar sets or removes a user's profile photo.
func (s *Store) SetAvatar(ctx context.Context, userID int64, key string, size int64, now time.Time) (parley.User, error) {
	var u parley.User
	err := s.inTx(ctx, func(tx pgx.Tx) (err error) {
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID))
		if err != nil {
			return err
		}
		if err := swapBlob(ctx, tx, u.AvatarKey, key, size, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE users SET avatar_key = nullif($2, '') WHERE id = $1`, userID, key)
		u.AvatarKey, u.AvatarURL = key, parley.AvatarURL(userID, key)
		return err
	})
	if err != nil {
		return parley.User{}, err
	}
	return u, nil
}

// SetGroupPhoto sets or removes a group's photo.
func (s *Store) SetGroupPhoto(ctx context.Context, conversationID int64, key string, size int64, now time.Time) (parley.Conversation, error) {
	var c parley.Conversation
	err := s.inTx(ctx, func(tx pgx.Tx) (err error) {
		c, err = scanConversation(tx.QueryRow(ctx, `SELECT `+conversationColumns+` FROM conversations c
			WHERE c.id = $1 AND c.kind = 'group' FOR NO KEY UPDATE`, conversationID))
		if err != nil {
			return err
		}
		if err := swapBlob(ctx, tx, c.PhotoKey, key, size, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE conversations SET photo_key = nullif($2, '') WHERE id = $1`, conversationID, key)
		c.PhotoKey, c.PhotoURL = key, parley.GroupPhotoURL(conversationID, key)
		return err
	})
	if err != nil {
		return parley.Conversation{}, err
	}
	return c, nil
}

// swapBlob takes a reference to key (unless "") and releases old.
func swapBlob(ctx context.Context, tx pgx.Tx, old, key string, size int64, now time.Time) error {
	if key != "" {
		if err := claimBlob(ctx, tx, key, size, now); err != nil {
			return err
		}
	}
	return releaseBlobs(ctx, tx, old)
}

// LeaseDoomedBlobs leases doomed blobs for deletion. Rows another
// transaction holds are skipped.
func (s *Store) LeaseDoomedBlobs(ctx context.Context, now, until time.Time, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
		UPDATE blobs SET lease_until = $1 WHERE key IN (
			SELECT key FROM blobs WHERE refs = 0 AND (lease_until IS NULL OR lease_until < $2)
			LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING key`, utc(until), utc(now.Add(-parley.BlobLeaseGrace)), limit)
	if err != nil {
		return nil, mapError(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return keys, mapError(err)
}

// ForgetBlobs forgets deleted blobs still doomed and leased until until.
func (s *Store) ForgetBlobs(ctx context.Context, keys []string, until time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM blobs WHERE key = ANY($1) AND refs = 0 AND lease_until = $2`, keys, utc(until))
	return mapError(err)
}
