package clustertest_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"parley/app"
	"parley/client"
	"parley/clustertest"
	"parley/media/mediatest"
	"parley/s3test"
	"parley/servertest"
)

// TestFilesOnS3: two nodes on one S3 bucket (an S3-protocol server on
// loopback). A file uploaded to one node is served by the other, with its
// thumbnail, whichever node makes it; deleting the message on the other
// node deletes the objects.
func TestFilesOnS3(t *testing.T) {
	store := s3test.Start(t)
	bucket := store.Bucket(t)
	d := clustertest.New(t)
	d.Configure = func(c *app.Config) {
		c.StorageURL, c.S3AccessKey, c.S3SecretKey = bucket, s3test.AccessKey, s3test.SecretKey
		c.Files.TempDir = t.TempDir()
	}
	nodes := d.StartN(t, 2)
	n1, n2 := nodes[0].URL, nodes[1].URL
	ctx := ctxT(t, 60*time.Second)

	alice := newPerson(t, n1, "alice")
	bob := newPerson(t, n2, "bob")
	conv, _, err := alice.c.Direct(ctx, bob.name)
	if err != nil {
		t.Fatal(err)
	}
	photo := mediatest.JPEG(800, 600, 1)
	up, err := alice.c.Upload(ctx, "beach.jpg", bytes.NewReader(photo), int64(len(photo)), client.UploadOptions{Type: "image/jpeg"})
	if err != nil {
		t.Fatalf("upload to n1: %v", err)
	}
	m, _, err := alice.c.Send(ctx, conv.ID, "c1", "from n1", up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].ThumbnailURL == "" {
		t.Fatalf("attachments: %+v", m.Attachments)
	}
	// Bob, on n2, gets the file and the thumbnail.
	for _, path := range []string{m.Attachments[0].URL, m.Attachments[0].ThumbnailURL} {
		res, err := bob.c.Download(ctx, path, nil)
		if err != nil {
			t.Fatalf("GET %s from n2: %v", path, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || len(body) == 0 || res.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("GET %s from n2: %d, %d bytes, %s", path, res.StatusCode, len(body), res.Header.Get("Content-Type"))
		}
		if path == m.Attachments[0].URL && int64(len(body)) != m.Attachments[0].Size {
			t.Fatalf("n2 served %d bytes of %d", len(body), m.Attachments[0].Size)
		}
	}
	// Ranges go through to the store.
	res, err := bob.c.Download(ctx, m.Attachments[0].URL, http.Header{"Range": {"bytes=10-19"}})
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 206 || len(part) != 10 {
		t.Fatalf("range from n2: %d, %d bytes", res.StatusCode, len(part))
	}
	objects := store.Objects(t, bucket)
	if objects != 2 { // the photo and its thumbnail
		t.Fatalf("%d objects in the bucket, want 2", objects)
	}
	// Bob's profile photo, set on n2, is served by n1.
	face := mediatest.PNG(300, 300)
	me, err := bob.c.SetAvatar(ctx, bytes.NewReader(face), int64(len(face)), "image/png")
	if err != nil {
		t.Fatal(err)
	}
	res, err = alice.c.Download(ctx, me.AvatarURL, nil)
	if err != nil {
		t.Fatalf("avatar from n1: %v", err)
	}
	res.Body.Close()
	// Alice deletes her message on n2: the objects go.
	alice2 := alice.device(t, n2)
	if _, err := alice2.c.Delete(ctx, conv.ID, m.Seq); err != nil {
		t.Fatal(err)
	}
	servertest.WaitFor(t, 20*time.Second, func() bool { return store.Objects(t, bucket) == 1 },
		"the photo and its thumbnail deleted from the bucket (%d objects left)", store.Objects(t, bucket))
	if _, err := bob.c.Download(ctx, m.Attachments[0].URL, nil); client.ErrorCode(err) != "not_found" {
		t.Fatalf("deleted attachment from n1: %v", err)
	}
}
