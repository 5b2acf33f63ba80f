package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"parley"
)

// withFiles is a text message attaching uploads.
func withFiles(conversationID int64, sender parley.User, clientMsgID, body string, i int, uploads ...parley.Upload) parley.NewMessage {
	nm := text(conversationID, sender, clientMsgID, body, i)
	for _, u := range uploads {
		nm.Attachments = append(nm.Attachments, u.ID)
	}
	return nm
}

func testAttach(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	g := MustGroup(t, s, "G", alice, bob)
	photo := MustUpload(t, s, alice, blobKey("photo"), 1000)
	voice := parley.Upload{OwnerID: alice.ID, Key: blobKey("voice"), Name: "voice.webm", Size: 99,
		ContentType: "audio/webm", Duration: 2.5}
	ok(t, s.CreateUpload(ctx, &voice, noQuota, at(0)), "CreateUpload")

	m, created, err := s.AppendMessage(ctx, withFiles(g.ID, alice, "c1", "look", 1, voice, photo))
	ok(t, err, "AppendMessage with attachments")
	want := []parley.Attachment{voice.Attachment(), photo.Attachment()}
	if !created {
		t.Fatal("created = false")
	}
	same(t, "attachments as sent", m.Attachments, want)
	if want[1].ThumbnailURL == "" || want[0].ThumbnailURL != "" || want[0].Duration != 2.5 {
		t.Fatalf("attachment objects: %+v", want)
	}
	// Read back everywhere a message is read.
	got, err := s.Message(ctx, g.ID, m.Seq)
	ok(t, err, "Message")
	same(t, "Message().Attachments", got.Attachments, want)
	page, err := s.Messages(ctx, g.ID, parley.MessageQuery{AfterSeq: m.Seq - 1})
	ok(t, err, "Messages")
	same(t, "Messages()[0].Attachments", page[0].Attachments, want)
	list, err := s.Conversations(ctx, bob.ID)
	ok(t, err, "Conversations")
	same(t, "last message's attachments", list[0].LastMessage.Attachments, want)
	// The uploads now belong to the message's conversation.
	for _, id := range []int64{photo.ID, voice.ID} {
		u, err := s.Upload(ctx, id)
		ok(t, err, "Upload")
		if u.MessageID != m.ID || u.ConversationID != g.ID {
			t.Fatalf("upload %d: message %d conversation %d, want %d %d", id, u.MessageID, u.ConversationID, m.ID, g.ID)
		}
	}
	// Attached uploads are no orphans, and cannot be deleted on their own.
	n, err := s.DeleteOrphanUploads(ctx, time.Now().Add(time.Hour), 10)
	if err != nil || n != 0 {
		t.Fatalf("DeleteOrphanUploads deleted %d attached uploads (%v)", n, err)
	}
	wantCode(t, s.DeleteUpload(ctx, alice.ID, photo.ID), parley.ENOTFOUND, "DeleteUpload of an attached upload")
	// A resend returns the original, attachments and all.
	again, created, err := s.AppendMessage(ctx, withFiles(g.ID, alice, "c1", "look", 2, voice, photo))
	ok(t, err, "resend")
	if created || again.ID != m.ID {
		t.Fatalf("resend: created %v, id %d", created, again.ID)
	}
	same(t, "resent message's attachments", again.Attachments, want)
	// An edit keeps them.
	ed, err := s.EditMessage(ctx, g.ID, m.Seq, alice.ID, "look again", nil, at(3))
	ok(t, err, "EditMessage")
	same(t, "edited message's attachments", ed.Attachments, want)
	// A message without attachments has none.
	plain := MustSend(t, s, g.ID, bob, "nice")
	if plain.Attachments != nil {
		t.Fatalf("plain message: %+v", plain.Attachments)
	}
}

func testAttachRefused(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob, carol := MustUser(t, s, "alice"), MustUser(t, s, "bob"), MustUser(t, s, "carol")
	g := MustGroup(t, s, "G", alice, bob)
	mine := MustUpload(t, s, alice, blobKey("mine"), 10)
	bobs := MustUpload(t, s, bob, blobKey("bob's"), 10)
	used := MustUpload(t, s, alice, blobKey("used"), 10)
	_, _, err := s.AppendMessage(ctx, withFiles(g.ID, alice, "c0", "first", 0, used))
	ok(t, err, "AppendMessage")
	before := mustConversation(t, s, g.ID)
	cases := []struct {
		name string
		nm   parley.NewMessage
	}{
		{"another's upload", withFiles(g.ID, alice, "c1", "x", 1, mine, bobs)},
		{"an attached upload", withFiles(g.ID, alice, "c2", "x", 1, mine, used)},
		{"an unknown upload", withFiles(g.ID, alice, "c3", "x", 1, parley.Upload{ID: bobs.ID + 1000})},
	}
	for _, c := range cases {
		_, _, err := s.AppendMessage(ctx, c.nm)
		if err != parley.ErrBadAttachments {
			t.Fatalf("%s: %v, want ErrBadAttachments", c.name, err)
		}
	}
	// A stranger's attachment question is never asked: not found.
	carols := MustUpload(t, s, carol, blobKey("carol's"), 10)
	_, _, err = s.AppendMessage(ctx, withFiles(g.ID, carol, "c4", "x", 1, carols))
	wantCode(t, err, parley.ENOTFOUND, "a non-member's message with attachments")
	if after := mustConversation(t, s, g.ID); after.LastSeq != before.LastSeq {
		t.Fatalf("refused appends stored messages: last_seq %d → %d", before.LastSeq, after.LastSeq)
	}
	if u, _ := s.Upload(ctx, mine.ID); u.MessageID != 0 {
		t.Fatal("a refused append attached an upload")
	}
	// The refusals changed nothing: the upload attaches fine now.
	m, _, err := s.AppendMessage(ctx, withFiles(g.ID, alice, "c5", "x", 1, mine))
	ok(t, err, "AppendMessage after refusals")
	if len(m.Attachments) != 1 || m.Attachments[0].ID != mine.ID {
		t.Fatalf("attachments: %+v", m.Attachments)
	}
}

// Deleting a message deletes its uploads; their blobs are doomed unless
// something else uses them.
func testAttachDelete(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	d := MustDirect(t, s, alice, bob)
	photo := MustUpload(t, s, alice, blobKey("photo"), 1000)
	_, err := s.SetThumbnail(ctx, photo.ID, blobKey("thumb"), 100, time.Now())
	ok(t, err, "SetThumbnail")
	shared := MustUpload(t, s, alice, blobKey("shared"), 10)
	MustUpload(t, s, bob, blobKey("shared"), 10) // bob's copy, not sent
	m, _, err := s.AppendMessage(ctx, withFiles(d.ID, alice, "c1", "", 1, photo, shared))
	ok(t, err, "AppendMessage")
	del, err := s.DeleteMessage(ctx, d.ID, m.Seq, alice.ID, false, at(2))
	ok(t, err, "DeleteMessage")
	if del.Attachments != nil || del.DeletedAt == nil {
		t.Fatalf("tombstone: %+v", del)
	}
	if got, _ := s.Message(ctx, d.ID, m.Seq); got.Attachments != nil {
		t.Fatalf("stored tombstone has attachments: %+v", got.Attachments)
	}
	for _, id := range []int64{photo.ID, shared.ID} {
		_, err := s.Upload(ctx, id)
		wantCode(t, err, parley.ENOTFOUND, "Upload of a deleted message's attachment")
	}
	want := []string{blobKey("photo"), blobKey("thumb")}
	slices.Sort(want)
	same(t, "doomed blobs", doomed(t, s, time.Now()), want)
	// Deleting again changes nothing.
	_, err = s.DeleteMessage(ctx, d.ID, m.Seq, alice.ID, false, at(3))
	ok(t, err, "second DeleteMessage")
}

// Two messages racing for the same upload: one gets it.
func testAttachConcurrent(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	var groups []parley.Conversation
	for range 4 {
		groups = append(groups, MustGroup(t, s, "G", alice))
	}
	for round := range 5 {
		u := MustUpload(t, s, alice, blobKey("race"), 10)
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			won, lost int
		)
		for i, g := range groups {
			wg.Go(func() {
				_, _, err := s.AppendMessage(ctx, withFiles(g.ID, alice, "r"+string(rune('a'+round))+string(rune('a'+i)), "x", 1, u))
				mu.Lock()
				defer mu.Unlock()
				switch err {
				case nil:
					won++
				case parley.ErrBadAttachments:
					lost++
				default:
					t.Errorf("AppendMessage: %v", err)
				}
			})
		}
		wg.Wait()
		if won != 1 || lost != len(groups)-1 {
			t.Fatalf("round %d: %d appends attached the upload, %d were refused", round, won, lost)
		}
	}
}
