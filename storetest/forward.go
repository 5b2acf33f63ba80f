package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"parley"
)

// A forwarded message carries its mark wherever a message is read.
func testForwardMark(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	d := MustDirect(t, s, alice, bob)
	nm := text(d.ID, alice, "f1", "passed on", 1)
	nm.Forwarded = true
	m, created, err := s.AppendMessage(ctx, nm)
	ok(t, err, "AppendMessage forwarded")
	if !created || !m.Forwarded {
		t.Fatalf("appended: created %v forwarded %v", created, m.Forwarded)
	}
	plain := MustSend(t, s, d.ID, bob, "thanks")
	if plain.Forwarded {
		t.Fatal("a plain message is marked forwarded")
	}
	got, err := s.Message(ctx, d.ID, m.Seq)
	ok(t, err, "Message")
	page, err := s.Messages(ctx, d.ID, parley.MessageQuery{AfterSeq: m.Seq - 1})
	ok(t, err, "Messages")
	if !got.Forwarded || len(page) != 2 || !page[0].Forwarded || page[1].Forwarded {
		t.Fatalf("read back: Message %v, Messages %+v", got.Forwarded, page)
	}
	again, created, err := s.AppendMessage(ctx, nm)
	ok(t, err, "resend")
	if created || again.ID != m.ID || !again.Forwarded {
		t.Fatalf("resend: created %v id %d forwarded %v", created, again.ID, again.Forwarded)
	}
	nm2 := text(d.ID, alice, "f3", "newest", 3)
	nm2.Forwarded = true
	_, _, err = s.AppendMessage(ctx, nm2)
	ok(t, err, "AppendMessage forwarded")
	list, err := s.Conversations(ctx, bob.ID)
	ok(t, err, "Conversations")
	if list[0].LastMessage == nil || !list[0].LastMessage.Forwarded {
		t.Fatalf("last message not marked forwarded: %+v", list[0].LastMessage)
	}
}

// CopyAttachments makes a message's files new uploads of the forwarder's,
// on the same blobs: each message's uploads go with it alone, and the
// blobs stay while either message has them.
func testCopyAttachments(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob, carol := MustUser(t, s, "alice"), MustUser(t, s, "bob"), MustUser(t, s, "carol")
	g := MustGroup(t, s, "G", alice, bob)
	d := MustDirect(t, s, bob, carol)
	photo := MustUpload(t, s, alice, blobKey("photo"), 1000)
	_, err := s.SetThumbnail(ctx, photo.ID, blobKey("thumb"), 100, time.Now())
	ok(t, err, "SetThumbnail")
	voice := parley.Upload{OwnerID: alice.ID, Key: blobKey("voice"), Name: "voice.webm", Size: 99,
		ContentType: "audio/webm", Duration: 2.5}
	ok(t, s.CreateUpload(ctx, &voice, noQuota, at(0)), "CreateUpload")
	orig, _, err := s.AppendMessage(ctx, withFiles(g.ID, alice, "c1", "look", 1, voice, photo))
	ok(t, err, "AppendMessage with attachments")
	plain := MustSend(t, s, g.ID, alice, "words only")

	// Refused: not a member, no such message, a system message, a
	// deleted one; quota. None takes anything.
	_, err = s.CopyAttachments(ctx, g.ID, orig.Seq, carol.ID, noQuota, at(2))
	wantCode(t, err, parley.ENOTFOUND, "CopyAttachments by a non-member")
	_, err = s.CopyAttachments(ctx, g.ID, plain.Seq+1, bob.ID, noQuota, at(2))
	wantCode(t, err, parley.ENOTFOUND, "CopyAttachments of no message")
	_, err = s.CopyAttachments(ctx, g.ID, 1, bob.ID, noQuota, at(2))
	wantCode(t, err, parley.ENOTFOUND, "CopyAttachments of a system message")
	_, err = s.CopyAttachments(ctx, g.ID+1000, 1, bob.ID, noQuota, at(2))
	wantCode(t, err, parley.ENOTFOUND, "CopyAttachments of no conversation")
	if _, err := s.CopyAttachments(ctx, g.ID, orig.Seq, bob.ID, 1098, at(2)); err != parley.ErrQuota {
		t.Fatalf("CopyAttachments past the quota: %v, want ErrQuota", err)
	}
	if used, err := s.UploadUsage(ctx, bob.ID); err != nil || used != 0 {
		t.Fatalf("bob's usage after a refused copy: %d (%v)", used, err)
	}
	none, err := s.CopyAttachments(ctx, g.ID, plain.Seq, bob.ID, noQuota, at(2))
	if err != nil || len(none) != 0 {
		t.Fatalf("CopyAttachments of a message without files: %v %v", none, err)
	}

	// Bob, a member who did not send it, copies them.
	copies, err := s.CopyAttachments(ctx, g.ID, orig.Seq, bob.ID, 1099, at(2))
	ok(t, err, "CopyAttachments")
	if len(copies) != 2 {
		t.Fatalf("copies: %+v", copies)
	}
	for i, src := range []parley.Upload{voice, photo} {
		c := copies[i]
		if c.ID == src.ID || c.OwnerID != bob.ID || c.Key != src.Key || c.Name != src.Name || c.Size != src.Size ||
			c.ContentType != src.ContentType || c.Width != src.Width || c.Duration != src.Duration ||
			c.MessageID != 0 || c.ConversationID != 0 {
			t.Fatalf("copy %d: %+v of %+v", i, c, src)
		}
		stored, err := s.Upload(ctx, c.ID)
		ok(t, err, "Upload of a copy")
		sameTime(t, "copy's CreatedAt", stored.CreatedAt, at(2))
	}
	if copies[1].ThumbKey != blobKey("thumb") {
		t.Fatalf("the photo's copy has thumbnail %q", copies[1].ThumbKey)
	}
	if used, _ := s.UploadUsage(ctx, bob.ID); used != 1099 {
		t.Fatalf("bob's usage: %d, want 1099", used)
	}
	// The copies attach to a message like any upload, in another
	// conversation.
	nm := withFiles(d.ID, bob, "fw1", "look", 3, copies...)
	nm.Forwarded = true
	fw, _, err := s.AppendMessage(ctx, nm)
	ok(t, err, "AppendMessage of the copies")
	if len(fw.Attachments) != 2 || fw.Attachments[0].ID != copies[0].ID || fw.Attachments[1].ThumbnailURL == "" {
		t.Fatalf("forwarded attachments: %+v", fw.Attachments)
	}
	for _, c := range copies {
		u, err := s.Upload(ctx, c.ID)
		ok(t, err, "Upload")
		if u.MessageID != fw.ID || u.ConversationID != d.ID {
			t.Fatalf("copy %d: message %d conversation %d", c.ID, u.MessageID, u.ConversationID)
		}
	}
	// A copy never attached is an orphan like any upload.
	spare, err := s.CopyAttachments(ctx, g.ID, orig.Seq, alice.ID, noQuota, at(4))
	ok(t, err, "CopyAttachments by the sender")
	n, err := s.DeleteOrphanUploads(ctx, at(5), 10)
	if err != nil || n != len(spare) {
		t.Fatalf("DeleteOrphanUploads: %d (%v), want %d", n, err, len(spare))
	}

	// Deleting the original leaves the forward's files; deleting the
	// forward then dooms them.
	_, err = s.DeleteMessage(ctx, g.ID, orig.Seq, alice.ID, false, at(6))
	ok(t, err, "DeleteMessage of the original")
	if keys := doomed(t, s, time.Now()); len(keys) != 0 {
		t.Fatalf("doomed while the forward has them: %v", keys)
	}
	for _, c := range copies {
		_, err := s.Upload(ctx, c.ID)
		ok(t, err, "Upload of the forward's file after the original's deletion")
	}
	_, err = s.CopyAttachments(ctx, g.ID, orig.Seq, bob.ID, noQuota, at(7))
	wantCode(t, err, parley.ENOTFOUND, "CopyAttachments of a deleted message")
	_, err = s.DeleteMessage(ctx, d.ID, fw.Seq, bob.ID, false, at(8))
	ok(t, err, "DeleteMessage of the forward")
	want := []string{blobKey("photo"), blobKey("thumb"), blobKey("voice")}
	slices.Sort(want)
	same(t, "doomed blobs", doomed(t, s, time.Now()), want)
}

// A forward's copy racing the original's deletion: either the copy is
// refused (the message is gone), or it holds its own references and the
// blobs stay however the two interleave.
func testCopyAttachmentsRacesDelete(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	g := MustGroup(t, s, "G", alice, bob)
	for round := range 8 {
		key := blobKey(fmt.Sprintf("race%d", round))
		u := MustUpload(t, s, alice, key, 10)
		m, _, err := s.AppendMessage(ctx, withFiles(g.ID, alice, fmt.Sprintf("r%d", round), "x", 1, u))
		ok(t, err, "AppendMessage")
		var (
			wg     sync.WaitGroup
			copies []parley.Upload
			cerr   error
		)
		wg.Go(func() { copies, cerr = s.CopyAttachments(ctx, g.ID, m.Seq, bob.ID, noQuota, time.Now()) })
		wg.Go(func() {
			if _, err := s.DeleteMessage(ctx, g.ID, m.Seq, alice.ID, false, time.Now()); err != nil {
				t.Errorf("DeleteMessage: %v", err)
			}
		})
		wg.Wait()
		switch {
		case cerr == nil && len(copies) == 1:
			if slices.Contains(doomed(t, s, time.Now()), key) {
				t.Fatalf("round %d: the copy's blob is doomed", round)
			}
			ok(t, s.DeleteUpload(ctx, bob.ID, copies[0].ID), "DeleteUpload of the copy")
		case parley.ErrorCode(cerr) == parley.ENOTFOUND:
		default:
			t.Fatalf("round %d: CopyAttachments: %v %v", round, copies, cerr)
		}
		if !slices.Contains(doomed(t, s, time.Now()), key) {
			t.Fatalf("round %d: the blob outlives every record of it", round)
		}
	}
}
