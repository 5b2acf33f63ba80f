package service

import (
	"bytes"
	"context"
	"io"

	"parley"
	"parley/media"
)

// errNotPhoto refuses a photo that is not an image Parley reads.
var errNotPhoto = parley.FieldErrorf("file", "A photo must be a JPEG, PNG, GIF or WebP image.")

// photo reads an image streamed from body (at most MaxUpload bytes) and
// returns its centred square, scaled and re-encoded (media.Avatar).
func (f *Files) photo(ctx context.Context, body io.Reader, declared string) (media.Picture, error) {
	sp, err := f.spool(body)
	if err != nil {
		return media.Picture{}, err
	}
	defer sp.remove()
	ctype := media.Sniff(sp.head, declared)
	if !parley.IsImage(ctype) {
		return media.Picture{}, errNotPhoto
	}
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return media.Picture{}, ctx.Err()
	}
	defer func() { <-f.slots }()
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		return media.Picture{}, err
	}
	return media.Avatar(sp.f, ctype, media.AvatarSide, f.cfg.MaxPixels)
}

// storePhoto records a photo with set (which takes the blob reference) and
// stores its bytes.
func (f *Files) storePhoto(ctx context.Context, pic media.Picture, set func(key string, size int64) error) error {
	key, size := blobKey(pic.Data), int64(len(pic.Data))
	if err := f.retryBusy(ctx, func() error { return set(key, size) }); err != nil {
		return err
	}
	f.wake() // the photo replaced, if any
	return f.ensureBlob(ctx, key, bytes.NewReader(pic.Data), size)
}

// SetAvatar makes an image streamed from body the user's profile photo
// (its centred square) and tells everyone who shares a conversation with
// them.
func (f *Files) SetAvatar(ctx context.Context, userID int64, body io.Reader, declared string) (parley.User, error) {
	pic, err := f.photo(ctx, body, declared)
	if err != nil {
		return parley.User{}, err
	}
	var u parley.User
	err = f.storePhoto(ctx, pic, func(key string, size int64) (err error) {
		u, err = f.store.SetAvatar(ctx, userID, key, size, f.svc.Now())
		return err
	})
	if err != nil {
		return parley.User{}, err
	}
	f.svc.announceProfile(ctx, userID)
	return u, nil
}

// RemoveAvatar removes the user's profile photo.
func (f *Files) RemoveAvatar(ctx context.Context, userID int64) (parley.User, error) {
	u, err := f.store.SetAvatar(ctx, userID, "", 0, f.svc.Now())
	if err != nil {
		return parley.User{}, err
	}
	f.wake()
	f.svc.announceProfile(ctx, userID)
	return u, nil
}

// Avatar opens a user's profile photo; ENOTFOUND if they have none.
// Profile photos are public to every logged-in user, like names.
func (f *Files) Avatar(ctx context.Context, userID int64) (parley.Blob, string, error) {
	u, err := f.store.User(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	if u.AvatarKey == "" {
		return nil, "", parley.ErrNotFound
	}
	b, err := f.blobs.Open(ctx, u.AvatarKey)
	return b, u.AvatarKey, err
}

// SetGroupPhoto makes an image streamed from body a group's photo (admins
// only) and tells the members.
func (f *Files) SetGroupPhoto(ctx context.Context, userID, id int64, body io.Reader, declared string) (parley.ConversationSummary, error) {
	if _, _, err := f.svc.moderator(ctx, userID, id); err != nil {
		return parley.ConversationSummary{}, err
	}
	pic, err := f.photo(ctx, body, declared)
	if err != nil {
		return parley.ConversationSummary{}, err
	}
	err = f.storePhoto(ctx, pic, func(key string, size int64) error {
		_, err := f.store.SetGroupPhoto(ctx, id, key, size, f.svc.Now())
		return err
	})
	if err != nil {
		return parley.ConversationSummary{}, err
	}
	f.svc.announceConversation(ctx, id, "photo")
	return f.svc.Conversation(ctx, userID, id)
}

// RemoveGroupPhoto removes a group's photo (admins only).
func (f *Files) RemoveGroupPhoto(ctx context.Context, userID, id int64) (parley.ConversationSummary, error) {
	if _, _, err := f.svc.moderator(ctx, userID, id); err != nil {
		return parley.ConversationSummary{}, err
	}
	if _, err := f.store.SetGroupPhoto(ctx, id, "", 0, f.svc.Now()); err != nil {
		return parley.ConversationSummary{}, err
	}
	f.wake()
	f.svc.announceConversation(ctx, id, "photo")
	return f.svc.Conversation(ctx, userID, id)
}

// GroupPhoto opens a group's photo for a member; ENOTFOUND for others and
// when there is none.
func (f *Files) GroupPhoto(ctx context.Context, userID, id int64) (parley.Blob, string, error) {
	if _, err := f.svc.member(ctx, id, userID); err != nil {
		return nil, "", err
	}
	c, err := f.store.Conversation(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if c.PhotoKey == "" {
		return nil, "", parley.ErrNotFound
	}
	b, err := f.blobs.Open(ctx, c.PhotoKey)
	return b, c.PhotoKey, err
}

// announceProfile tells the members of each of the user's conversations
// that their profile (photo) changed: a `member` event with change
// "profile".
func (s *Service) announceProfile(ctx context.Context, userID int64) {
	ids, err := s.store.ConversationIDs(ctx, userID)
	if err != nil {
		s.log.Warn("announce a profile change", "user", userID, "err", err)
		return
	}
	for _, id := range ids {
		m, err := s.store.Member(ctx, id, userID)
		if err != nil {
			continue // left meanwhile
		}
		s.publish(ctx, parley.ConversationTopic(id), parley.Event{Type: parley.EventFrame, ConversationID: id,
			Frame: encode(MemberFrame{Ev: "member", ConversationID: id, Change: "profile", Member: m})})
	}
}
