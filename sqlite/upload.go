package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"parley"
)

// claimBlob takes a reference to blob key (size bytes) in tx (see
// parley.UploadStore, "Blob references").
func claimBlob(ctx context.Context, tx *wtx, key string, size int64, now time.Time) error {
	var (
		refs  int64
		lease sql.NullInt64
	)
	err := tx.QueryRowContext(ctx, `SELECT refs, lease_until FROM blobs WHERE key = ?`, key).Scan(&refs, &lease)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, `INSERT INTO blobs (key, refs, size) VALUES (?, 1, ?)`, key, size)
		return err
	case err != nil:
		return err
	case refs == 0 && lease.Valid && lease.Int64 >= ts(now.Add(-parley.BlobLeaseGrace)):
		return parley.ErrBlobBusy
	}
	_, err = tx.ExecContext(ctx, `UPDATE blobs SET refs = refs + 1, lease_until = NULL WHERE key = ?`, key)
	return err
}

// releaseBlobs releases a reference to each key ("" stands for none).
func releaseBlobs(ctx context.Context, tx *wtx, keys ...string) error {
	for _, k := range keys {
		if k == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE blobs SET refs = refs - 1 WHERE key = ? AND refs > 0`, k); err != nil {
			return err
		}
	}
	return nil
}

const uploadCols = `id, owner_id, blob_key, name, size, content_type, width, height, duration, COALESCE(thumb_key, ''),
	created_at, COALESCE(conversation_id, 0), COALESCE(message_id, 0)`

func scanUpload(sc scanner) (parley.Upload, error) {
	var (
		u       parley.Upload
		created int64
	)
	err := sc.Scan(&u.ID, &u.OwnerID, &u.Key, &u.Name, &u.Size, &u.ContentType, &u.Width, &u.Height, &u.Duration,
		&u.ThumbKey, &created, &u.ConversationID, &u.MessageID)
	u.CreatedAt = tm(created)
	return u, err
}

func getUpload(ctx context.Context, q queryer, id int64) (parley.Upload, error) {
	u, err := scanUpload(q.QueryRowContext(ctx, `SELECT `+uploadCols+` FROM uploads WHERE id = ?`, id))
	return u, dbErr(err)
}

// CreateUpload stores an upload and takes a reference to its blob.
func (s *Store) CreateUpload(ctx context.Context, u *parley.Upload, quota int64, now time.Time) error {
	nu := *u
	nu.CreatedAt = tm(ts(now))
	var id int64
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		var used int64
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM uploads WHERE owner_id = ?`, nu.OwnerID).Scan(&used)
		if err != nil {
			return err
		}
		if used+nu.Size > quota {
			return parley.ErrQuota
		}
		if err := claimBlob(ctx, tx, nu.Key, nu.Size, now); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO uploads (owner_id, blob_key, name, size, content_type, width, height,
			duration, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			nu.OwnerID, nu.Key, nu.Name, nu.Size, nu.ContentType, nu.Width, nu.Height, nu.Duration, ts(nu.CreatedAt)).Scan(&id)
	})
	if err != nil {
		return err
	}
	u.ID, u.CreatedAt = id, nu.CreatedAt
	return nil
}

// Upload returns an upload.
func (s *Store) Upload(ctx context.Context, id int64) (parley.Upload, error) {
	return getUpload(ctx, s.rd, id)
}

// UploadUsage is the bytes of a user's uploads.
func (s *Store) UploadUsage(ctx context.Context, ownerID int64) (int64, error) {
	var used int64
	err := s.rd.QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM uploads WHERE owner_id = ?`, ownerID).Scan(&used)
	return used, dbErr(err)
}

// SetThumbnail records an upload's thumbnail if it has none.
func (s *Store) SetThumbnail(ctx context.Context, id int64, key string, size int64, now time.Time) (parley.Upload, error) {
	var u parley.Upload
	err := s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		if u, err = getUpload(ctx, tx, id); err != nil || u.ThumbKey != "" {
			return err
		}
		if err := claimBlob(ctx, tx, key, size, now); err != nil {
			return err
		}
		u.ThumbKey = key
		_, err = tx.ExecContext(ctx, `UPDATE uploads SET thumb_key = ? WHERE id = ?`, key, id)
		return err
	})
	if err != nil {
		return parley.Upload{}, err
	}
	return u, nil
}

// CopyAttachments copies a message's attachments as new uploads of
// ownerID's, for a forward.
func (s *Store) CopyAttachments(ctx context.Context, conversationID, seq, ownerID, quota int64, now time.Time) ([]parley.Upload, error) {
	var out []parley.Upload
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		out = nil
		var member bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM members WHERE conversation_id = ? AND user_id = ?)`,
			conversationID, ownerID).Scan(&member)
		if err != nil {
			return err
		}
		if !member {
			return parley.ErrNotFound
		}
		m, err := getMessage(ctx, tx, conversationID, seq)
		if err != nil {
			return err
		}
		if m.Kind != parley.MessageText || m.DeletedAt != nil {
			return parley.ErrNotFound
		}
		if len(m.Attachments) == 0 {
			return nil
		}
		var used int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM uploads WHERE owner_id = ?`, ownerID).Scan(&used); err != nil {
			return err
		}
		created := tm(ts(now))
		for _, a := range m.Attachments {
			u, err := getUpload(ctx, tx, a.ID)
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
				if err := tx.QueryRowContext(ctx, `SELECT size FROM blobs WHERE key = ?`, u.ThumbKey).Scan(&size); err != nil {
					return err
				}
				if err := claimBlob(ctx, tx, u.ThumbKey, size, now); err != nil {
					return err
				}
			}
			c := u
			c.OwnerID, c.CreatedAt, c.ConversationID, c.MessageID = ownerID, created, 0, 0
			err = tx.QueryRowContext(ctx, `INSERT INTO uploads (owner_id, blob_key, name, size, content_type, width, height,
				duration, thumb_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				c.OwnerID, c.Key, c.Name, c.Size, c.ContentType, c.Width, c.Height, c.Duration, nullStr(c.ThumbKey),
				ts(c.CreatedAt)).Scan(&c.ID)
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
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		u, err := getUpload(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.OwnerID != ownerID || u.MessageID != 0 {
			return parley.ErrNotFound
		}
		var n int
		return deleteUploads(ctx, tx, []parley.Upload{u}, &n)
	})
}

// DeleteOrphanUploads deletes uploads never attached, created before
// before.
func (s *Store) DeleteOrphanUploads(ctx context.Context, before time.Time, limit int) (int, error) {
	var n int
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		n = 0
		ups, err := collect(ctx, tx, scanUpload, `SELECT `+uploadCols+` FROM uploads
			WHERE message_id IS NULL AND created_at < ? ORDER BY created_at LIMIT ?`, ts(before), limit)
		if err != nil {
			return err
		}
		return deleteUploads(ctx, tx, ups, &n)
	})
	if err != nil {
		return 0, err // n may still be written by the writer
	}
	return n, nil
}

// deleteUploads deletes uploads and releases their blobs, counting them in n.
func deleteUploads(ctx context.Context, tx *wtx, ups []parley.Upload, n *int) error {
	for _, u := range ups {
		if _, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE id = ?`, u.ID); err != nil {
			return err
		}
		if err := releaseBlobs(ctx, tx, u.Key, u.ThumbKey); err != nil {
			return err
		}
		*n++
	}
	return nil
}

// SetAvatar sets or removes a user's profile photo.
func (s *Store) SetAvatar(ctx context.Context, userID int64, key string, size int64, now time.Time) (parley.User, error) {
	var u parley.User
	err := s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		if u, err = getUser(ctx, tx, userID); err != nil {
			return err
		}
		if err := swapBlob(ctx, tx, u.AvatarKey, key, size, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET avatar_key = ? WHERE id = ?`, nullStr(key), userID); err != nil {
			return err
		}
		u.AvatarKey, u.AvatarURL = key, parley.AvatarURL(userID, key)
		return nil
	})
	if err != nil {
		return parley.User{}, err
	}
	return u, nil
}

// SetGroupPhoto sets or removes a group's photo.
func (s *Store) SetGroupPhoto(ctx context.Context, conversationID int64, key string, size int64, now time.Time) (parley.Conversation, error) {
	var c parley.Conversation
	err := s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		if c, err = getConv(ctx, tx, conversationID); err != nil {
			return err
		}
		if c.Kind != parley.KindGroup {
			return parley.ErrNotFound
		}
		if err := swapBlob(ctx, tx, c.PhotoKey, key, size, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET photo_key = ? WHERE id = ?`, nullStr(key), conversationID); err != nil {
			return err
		}
		c.PhotoKey, c.PhotoURL = key, parley.GroupPhotoURL(conversationID, key)
		return nil
	})
	if err != nil {
		return parley.Conversation{}, err
	}
	return c, nil
}

// swapBlob takes a reference to key (unless "") and releases old.
func swapBlob(ctx context.Context, tx *wtx, old, key string, size int64, now time.Time) error {
	if key != "" {
		if err := claimBlob(ctx, tx, key, size, now); err != nil {
			return err
		}
	}
	return releaseBlobs(ctx, tx, old)
}

// LeaseDoomedBlobs leases doomed blobs for deletion.
func (s *Store) LeaseDoomedBlobs(ctx context.Context, now, until time.Time, limit int) ([]string, error) {
	var keys []string
	err := s.write(ctx, func(ctx context.Context, tx *wtx) (err error) {
		keys, err = collect(ctx, tx, scanKey, `UPDATE blobs SET lease_until = ? WHERE key IN (
			SELECT key FROM blobs WHERE refs = 0 AND (lease_until IS NULL OR lease_until < ?) LIMIT ?)
			RETURNING key`, ts(until), ts(now.Add(-parley.BlobLeaseGrace)), limit)
		return err
	})
	if err != nil {
		return nil, err // keys may still be written by the writer
	}
	return keys, nil
}

func scanKey(sc scanner) (string, error) {
	var k string
	err := sc.Scan(&k)
	return k, err
}

// ForgetBlobs forgets deleted blobs still doomed and leased until until.
func (s *Store) ForgetBlobs(ctx context.Context, keys []string, until time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		for _, k := range keys {
			_, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE key = ? AND refs = 0 AND lease_until = ?`, k, ts(until))
			if err != nil {
				return err
			}
		}
		return nil
	})
}
