package s3_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"parley"
	"parley/blobtest"
	"parley/s3"
	"parley/s3test"
)

func open(t *testing.T, url string) *s3.Blobs {
	t.Helper()
	b, err := s3.Open(t.Context(), s3.Config{URL: url, AccessKey: s3test.AccessKey, SecretKey: s3test.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBlobs(t *testing.T) {
	srv := s3test.Start(t)
	blobtest.Run(t, func(t *testing.T) parley.Blobs { return open(t, srv.Bucket(t)) })
}

// The prefix parameter puts every object under it.
func TestPrefix(t *testing.T) {
	srv := s3test.Start(t)
	url := srv.Bucket(t)
	b := open(t, url+"&prefix=blobs/")
	data := []byte("prefixed")
	key := blobtest.Key(data)
	if err := b.Put(t.Context(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if _, err := open(t, url).Stat(t.Context(), key); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("blob found without the prefix: %v", err)
	}
	if n := srv.Objects(t, url); n != 1 {
		t.Fatalf("%d objects in the bucket, want 1", n)
	}
}

func TestBadURL(t *testing.T) {
	srv := s3test.Start(t)
	for _, url := range []string{"http://bucket", "s3://", "s3://b?endpoint=x&colour=red", "s3://b?lookup=sideways",
		"s3://missing-bucket?endpoint=" + srv.Endpoint} {
		if _, err := s3.Open(t.Context(), s3.Config{URL: url, AccessKey: "a", SecretKey: "b"}); err == nil {
			t.Errorf("Open(%q) succeeded", url)
		}
	}
}

// A store that cannot be reached is unavailable (503), not a bug.
func TestUnreachable(t *testing.T) {
	srv := s3test.Start(t)
	b := open(t, srv.Bucket(t))
	srv.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	key := blobtest.Key([]byte("x"))
	if _, err := b.Stat(ctx, key); parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Fatalf("Stat with the store down: %v", err)
	}
	if err := b.Put(ctx, key, strings.NewReader("x"), 1); parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Fatalf("Put with the store down: %v", err)
	}
}
