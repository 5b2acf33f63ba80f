package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	"parley"
)

// blobKey is a valid blob key made from s.
func blobKey(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

const noQuota = 1 << 50

// MustUpload records an upload of a blob of size bytes by owner, created
// now.
func MustUpload(t testing.TB, s parley.Store, owner parley.User, key string, size int64) parley.Upload {
	t.Helper()
	return mustUploadAt(t, s, owner, key, size, time.Now())
}

func mustUploadAt(t testing.TB, s parley.Store, owner parley.User, key string, size int64, now time.Time) parley.Upload {
	t.Helper()
	u := parley.Upload{OwnerID: owner.ID, Key: key, Name: fmt.Sprintf("file%d.jpg", next()), Size: size,
		ContentType: "image/jpeg", Width: 640, Height: 480}
	if err := s.CreateUpload(context.Background(), &u, noQuota, now); err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	return u
}

// doomed leases every doomed blob now and returns their keys, sorted.
func doomed(t *testing.T, s parley.Store, now time.Time) []string {
	t.Helper()
	keys, err := s.LeaseDoomedBlobs(context.Background(), now, now.Add(time.Minute), 100)
	ok(t, err, "LeaseDoomedBlobs")
	slices.Sort(keys)
	return keys
}

func testCreateUpload(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	u := parley.Upload{OwnerID: alice.ID, Key: blobKey("a"), Name: "Ünïcode photo.jpg", Size: 1234,
		ContentType: "image/jpeg", Width: 640, Height: 480, Duration: 0}
	ok(t, s.CreateUpload(ctx, &u, noQuota, at(1)), "CreateUpload")
	if u.ID == 0 {
		t.Fatal("CreateUpload set no ID")
	}
	sameTime(t, "CreatedAt", u.CreatedAt, at(1))
	got, err := s.Upload(ctx, u.ID)
	ok(t, err, "Upload")
	same(t, "Upload", got, u)
	if got.ConversationID != 0 || got.MessageID != 0 || got.ThumbKey != "" {
		t.Fatalf("a new upload is attached or has a thumbnail: %+v", got)
	}
	v := parley.Upload{OwnerID: alice.ID, Key: blobKey("b"), Name: "voice.webm", Size: 99,
		ContentType: "audio/webm", Duration: 3.25}
	ok(t, s.CreateUpload(ctx, &v, noQuota, at(2)), "CreateUpload audio")
	got, err = s.Upload(ctx, v.ID)
	ok(t, err, "Upload audio")
	same(t, "audio upload", got, v)

	_, err = s.Upload(ctx, v.ID+1000)
	wantCode(t, err, parley.ENOTFOUND, "Upload of an unknown id")

	// Only the owner deletes an upload.
	bob := MustUser(t, s, "bob")
	wantCode(t, s.DeleteUpload(ctx, bob.ID, v.ID), parley.ENOTFOUND, "DeleteUpload by another user")
	ok(t, s.DeleteUpload(ctx, alice.ID, v.ID), "DeleteUpload")
	_, err = s.Upload(ctx, v.ID)
	wantCode(t, err, parley.ENOTFOUND, "Upload after DeleteUpload")
	wantCode(t, s.DeleteUpload(ctx, alice.ID, v.ID), parley.ENOTFOUND, "second DeleteUpload")
	same(t, "doomed after DeleteUpload", doomed(t, s, at(3)), []string{blobKey("b")})
	w := parley.Upload{OwnerID: alice.ID + 1000, Key: blobKey("c"), Name: "x", Size: 1, ContentType: "text/plain"}
	wantCode(t, s.CreateUpload(ctx, &w, noQuota, at(3)), parley.ENOTFOUND, "CreateUpload by an unknown user")
	if keys := doomed(t, s, at(3)); len(keys) != 0 {
		t.Fatalf("refused upload left blob references: %v doomed", keys)
	}
}

func testUploadQuota(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	for i, size := range []int64{600, 400} {
		u := parley.Upload{OwnerID: alice.ID, Key: blobKey(fmt.Sprint(i)), Name: "f", Size: size, ContentType: "image/png"}
		ok(t, s.CreateUpload(ctx, &u, 1000, at(i)), "CreateUpload within the quota")
	}
	used, err := s.UploadUsage(ctx, alice.ID)
	if err != nil || used != 1000 {
		t.Fatalf("UploadUsage = %d, %v; want 1000", used, err)
	}
	u := parley.Upload{OwnerID: alice.ID, Key: blobKey("over"), Name: "f", Size: 1, ContentType: "image/png"}
	err = s.CreateUpload(ctx, &u, 1000, at(3))
	if err != parley.ErrQuota {
		t.Fatalf("CreateUpload past the quota: %v, want ErrQuota", err)
	}
	if keys := doomed(t, s, at(3)); len(keys) != 0 {
		t.Fatalf("a refused upload took a blob reference: %v", keys)
	}
	// The quota is per user.
	u = parley.Upload{OwnerID: bob.ID, Key: blobKey("over"), Name: "f", Size: 1000, ContentType: "image/png"}
	ok(t, s.CreateUpload(ctx, &u, 1000, at(3)), "another user's upload")
	if used, _ := s.UploadUsage(ctx, bob.ID); used != 1000 {
		t.Fatalf("bob's usage = %d", used)
	}
	// Deleted uploads free their bytes.
	n, err := s.DeleteOrphanUploads(ctx, time.Now().Add(time.Hour), 10)
	if err != nil || n != 3 {
		t.Fatalf("DeleteOrphanUploads = %d, %v; want 3", n, err)
	}
	if used, _ := s.UploadUsage(ctx, alice.ID); used != 0 {
		t.Fatalf("usage after deletion = %d", used)
	}
}

// Blobs are shared: a blob is doomed once the last record using it goes.
func testBlobRefs(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	shared, own := blobKey("shared"), blobKey("own")
	a := mustUploadAt(t, s, alice, shared, 10, at(1))
	mustUploadAt(t, s, bob, shared, 10, at(2))
	mustUploadAt(t, s, bob, own, 20, at(3))
	now := at(5)
	if keys := doomed(t, s, now); len(keys) != 0 {
		t.Fatalf("blobs in use are doomed: %v", keys)
	}
	// Alice's orphan goes first (the oldest created before the cut); bob's
	// upload still uses the shared blob.
	cut := at(4)
	b3 := mustUploadAt(t, s, bob, blobKey("later"), 5, at(4))
	n, err := s.DeleteOrphanUploads(ctx, cut, 1)
	if err != nil || n != 1 {
		t.Fatalf("DeleteOrphanUploads(limit 1) = %d, %v", n, err)
	}
	if _, err := s.Upload(ctx, a.ID); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("the oldest orphan is still there: %v", err)
	}
	if keys := doomed(t, s, now); len(keys) != 0 {
		t.Fatalf("a blob still used by another upload is doomed: %v", keys)
	}
	n, err = s.DeleteOrphanUploads(ctx, cut, 10)
	if err != nil || n != 2 {
		t.Fatalf("DeleteOrphanUploads = %d, %v; want 2", n, err)
	}
	if _, err := s.Upload(ctx, b3.ID); err != nil {
		t.Fatalf("an upload created after the cut was deleted: %v", err)
	}
	want := []string{shared, own}
	slices.Sort(want)
	until := now.Add(time.Minute)
	keys, err := s.LeaseDoomedBlobs(ctx, now, until, 10)
	ok(t, err, "LeaseDoomedBlobs")
	slices.Sort(keys)
	same(t, "doomed blobs", keys, want)
	// Leased: nobody else leases them until the lease (and its grace) ends.
	if keys := doomed(t, s, now.Add(30*time.Second)); len(keys) != 0 {
		t.Fatalf("leased blobs leased again: %v", keys)
	}
	if keys := doomed(t, s, until.Add(parley.BlobLeaseGrace/2)); len(keys) != 0 {
		t.Fatalf("blobs leased again within the grace: %v", keys)
	}
	// Forget needs the lease's own end.
	ok(t, s.ForgetBlobs(ctx, keys, until.Add(time.Second)), "ForgetBlobs with another lease")
	after := until.Add(parley.BlobLeaseGrace + time.Second)
	until2 := after.Add(time.Minute)
	keys, err = s.LeaseDoomedBlobs(ctx, after, until2, 10)
	ok(t, err, "LeaseDoomedBlobs after the lease ended")
	slices.Sort(keys)
	same(t, "blobs whose lease ended", keys, want)
	ok(t, s.ForgetBlobs(ctx, keys, until2), "ForgetBlobs")
	if keys := doomed(t, s, after.Add(time.Hour)); len(keys) != 0 {
		t.Fatalf("forgotten blobs still doomed: %v", keys)
	}
}

// Taking a reference to a doomed blob revives it, unless its deletion is
// leased: then ErrBlobBusy until the lease and its grace are over.
func testBlobBusy(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	key := blobKey("busy")
	MustUpload(t, s, alice, key, 10)
	_, err := s.DeleteOrphanUploads(ctx, time.Now().Add(time.Hour), 10)
	ok(t, err, "DeleteOrphanUploads")
	// Doomed but not leased: a new upload revives it at once.
	now := time.Now()
	MustUpload(t, s, alice, key, 10)
	if keys := doomed(t, s, now); len(keys) != 0 {
		t.Fatalf("a revived blob is doomed: %v", keys)
	}
	_, err = s.DeleteOrphanUploads(ctx, time.Now().Add(time.Hour), 10)
	ok(t, err, "DeleteOrphanUploads")
	until := now.Add(time.Minute)
	keys, err := s.LeaseDoomedBlobs(ctx, now, until, 10)
	if err != nil || len(keys) != 1 {
		t.Fatalf("LeaseDoomedBlobs = %v, %v", keys, err)
	}
	v := parley.Upload{OwnerID: alice.ID, Key: key, Name: "f", Size: 10, ContentType: "image/jpeg"}
	if err := s.CreateUpload(ctx, &v, noQuota, now.Add(10*time.Second)); err != parley.ErrBlobBusy {
		t.Fatalf("CreateUpload of a blob being deleted: %v, want ErrBlobBusy", err)
	}
	if err := s.CreateUpload(ctx, &v, noQuota, until.Add(parley.BlobLeaseGrace/2)); err != parley.ErrBlobBusy {
		t.Fatalf("CreateUpload within the lease's grace: %v, want ErrBlobBusy", err)
	}
	if _, err := s.SetAvatar(ctx, alice.ID, key, 10, now); err != parley.ErrBlobBusy {
		t.Fatalf("SetAvatar to a blob being deleted: %v, want ErrBlobBusy", err)
	}
	if got := mustUser(t, s, alice.ID); got.AvatarKey != "" {
		t.Fatalf("a refused SetAvatar changed the user: %+v", got)
	}
	// The deleter that held the lease is gone: after the grace, the blob
	// is revived.
	ok(t, s.CreateUpload(ctx, &v, noQuota, until.Add(parley.BlobLeaseGrace+time.Second)), "CreateUpload after the lease")
	ok(t, s.ForgetBlobs(ctx, []string{key}, until), "ForgetBlobs by the late deleter")
	if keys := doomed(t, s, until.Add(time.Hour)); len(keys) != 0 {
		t.Fatalf("a revived blob is doomed: %v", keys)
	}
}

func testThumbnail(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice := MustUser(t, s, "alice")
	u := MustUpload(t, s, alice, blobKey("photo"), 1000)
	thumb, other := blobKey("thumb"), blobKey("other thumb")
	got, err := s.SetThumbnail(ctx, u.ID, thumb, 100, time.Now())
	ok(t, err, "SetThumbnail")
	if got.ThumbKey != thumb || got.ID != u.ID {
		t.Fatalf("SetThumbnail returned %+v", got)
	}
	// A second thumbnail (made elsewhere at the same time) changes nothing.
	got, err = s.SetThumbnail(ctx, u.ID, other, 100, time.Now())
	ok(t, err, "second SetThumbnail")
	if got.ThumbKey != thumb {
		t.Fatalf("second SetThumbnail replaced the thumbnail: %q", got.ThumbKey)
	}
	if got, _ := s.Upload(ctx, u.ID); got.ThumbKey != thumb {
		t.Fatalf("Upload().ThumbKey = %q", got.ThumbKey)
	}
	_, err = s.SetThumbnail(ctx, u.ID+1000, thumb, 100, time.Now())
	wantCode(t, err, parley.ENOTFOUND, "SetThumbnail of an unknown upload")
	// Deleting the upload releases both blobs; the refused one was never
	// taken.
	_, err = s.DeleteOrphanUploads(ctx, time.Now().Add(time.Hour), 10)
	ok(t, err, "DeleteOrphanUploads")
	want := []string{blobKey("photo"), thumb}
	slices.Sort(want)
	same(t, "doomed blobs", doomed(t, s, time.Now()), want)
}

func testAvatar(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	k1, k2 := blobKey("face 1"), blobKey("face 2")
	u, err := s.SetAvatar(ctx, alice.ID, k1, 100, time.Now())
	ok(t, err, "SetAvatar")
	want := parley.AvatarURL(alice.ID, k1)
	if u.AvatarKey != k1 || u.AvatarURL != want || want == "" {
		t.Fatalf("SetAvatar returned %q %q", u.AvatarKey, u.AvatarURL)
	}
	// Everywhere the user is read.
	if got := mustUser(t, s, alice.ID); got.AvatarURL != want || got.AvatarKey != k1 {
		t.Fatalf("User().AvatarURL = %q", got.AvatarURL)
	}
	if got, _ := s.UserByUsername(ctx, "alice"); got.AvatarURL != want {
		t.Fatalf("UserByUsername().AvatarURL = %q", got.AvatarURL)
	}
	d := MustDirect(t, s, alice, bob)
	g := MustGroup(t, s, "G", bob, alice)
	if m := mustMember(t, s, g.ID, alice.ID); m.AvatarURL != want {
		t.Fatalf("Member().AvatarURL = %q", m.AvatarURL)
	}
	list, err := s.Conversations(ctx, bob.ID)
	ok(t, err, "Conversations")
	for _, c := range list {
		if c.ID == d.ID && (c.Peer == nil || c.Peer.AvatarURL != want) {
			t.Fatalf("peer in bob's list: %+v", c.Peer)
		}
	}
	if m := mustMember(t, s, g.ID, bob.ID); m.AvatarURL != "" {
		t.Fatalf("bob has no photo, but %q", m.AvatarURL)
	}
	// Replacing releases the old photo; removing releases the new one.
	_, err = s.SetAvatar(ctx, alice.ID, k2, 100, time.Now())
	ok(t, err, "SetAvatar again")
	same(t, "doomed after a new photo", doomed(t, s, time.Now()), []string{k1})
	u, err = s.SetAvatar(ctx, alice.ID, "", 0, time.Now())
	ok(t, err, "SetAvatar(\"\")")
	if u.AvatarURL != "" || mustUser(t, s, alice.ID).AvatarURL != "" {
		t.Fatal("the photo is still there after its removal")
	}
	same(t, "doomed after removal", doomed(t, s, time.Now()), []string{k2})
	_, err = s.SetAvatar(ctx, alice.ID+1000, k1, 1, time.Now())
	wantCode(t, err, parley.ENOTFOUND, "SetAvatar of an unknown user")
}

func testGroupPhoto(t *testing.T, s parley.Store) {
	ctx := context.Background()
	alice, bob := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	g := MustGroup(t, s, "G", alice, bob)
	key := blobKey("group photo")
	c, err := s.SetGroupPhoto(ctx, g.ID, key, 100, time.Now())
	ok(t, err, "SetGroupPhoto")
	want := parley.GroupPhotoURL(g.ID, key)
	if c.PhotoURL != want || c.PhotoKey != key || c.Name != "G" {
		t.Fatalf("SetGroupPhoto returned %+v", c)
	}
	if got := mustConversation(t, s, g.ID); got.PhotoURL != want || got.PhotoKey != key {
		t.Fatalf("Conversation().PhotoURL = %q", got.PhotoURL)
	}
	list, err := s.Conversations(ctx, bob.ID)
	ok(t, err, "Conversations")
	if len(list) != 1 || list[0].PhotoURL != want {
		t.Fatalf("bob's list: %+v", list)
	}
	d := MustDirect(t, s, alice, bob)
	_, err = s.SetGroupPhoto(ctx, d.ID, key, 100, time.Now())
	wantCode(t, err, parley.ENOTFOUND, "SetGroupPhoto of a direct conversation")
	_, err = s.SetGroupPhoto(ctx, g.ID, "", 0, time.Now())
	ok(t, err, "SetGroupPhoto(\"\")")
	if mustConversation(t, s, g.ID).PhotoURL != "" {
		t.Fatal("group photo still there")
	}
	same(t, "doomed", doomed(t, s, time.Now()), []string{key})
}
