package parley

import (
	"context"
	"io"
)

// Blobs stores file bytes: uploads, thumbnails, avatars. disk.Blobs (a
// folder in the data dir, the default) and s3.Blobs (S3-compatible object
// storage, for many nodes) implement it; blobtest.Run checks both against
// the same suite.
//
// Blobs are content-addressed and immutable: a blob's key is the lower-case
// hex SHA-256 of its bytes (see BlobKey), so the same bytes stored twice are
// one blob, and a key always names the same bytes. Which records use a blob,
// and when it may be deleted, is the store's business (BlobStore); Blobs
// only keeps bytes.
//
// Every method returns ENOTFOUND for a key that holds no blob, EINVALID for
// a key that is not a SHA-256 in hex, ErrUnavailable (wrapping the cause,
// for logs) when the storage cannot be reached, and other errors only for
// bugs.
type Blobs interface {
	// Put stores the size bytes read from r under key, which must be their
	// SHA-256 (EINVALID otherwise, and nothing is stored). No reader ever
	// sees a partial blob: until Put returns nil, Open finds the previous
	// blob or none; if Put fails, nothing changed. Putting a key that
	// exists stores the same bytes again, which changes nothing for
	// readers.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Open returns a blob's bytes, which may be read from any offset.
	Open(ctx context.Context, key string) (Blob, error)
	// Stat returns a blob's size.
	Stat(ctx context.Context, key string) (int64, error)
	// Delete removes a blob. Deleting a key that holds none is not an
	// error.
	Delete(ctx context.Context, key string) error
}

// Blob is an open blob. Reads and seeks may go over the network (S3); the
// caller closes it.
type Blob interface {
	io.ReadSeekCloser
	// Size is the blob's length in bytes.
	Size() int64
}

// BlobKeyLen is the length of a blob key: 64 hex characters.
const BlobKeyLen = 64

// ValidBlobKey reports whether key is a SHA-256 in lower-case hex.
func ValidBlobKey(key string) bool {
	if len(key) != BlobKeyLen {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ErrBadBlobKey is the answer of Blobs methods for a malformed key.
var ErrBadBlobKey = &Error{Code: EINVALID, Message: "A blob key is a SHA-256 in lower-case hex."}

// ErrBlobMismatch is Put's answer when the bytes read are not the key's:
// their SHA-256 differs, or there are more or fewer than size.
var ErrBlobMismatch = &Error{Code: EINVALID, Message: "The bytes do not match the blob's key and size."}
