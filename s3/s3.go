// Package s3 implements parley.Blobs on S3-compatible object storage
// (Amazon S3, MinIO, Ceph, R2, ...) with minio-go, the storage of a
// deployment of many nodes: every node reads and writes the same bucket.
//
// A blob with key k is the object <prefix>k. An object appears whole or not
// at all (a PUT, or a multipart upload, becomes visible when it completes),
// so no reader sees a partial blob. Put checks the bytes' SHA-256 and length
// as they stream out and fails the upload, before it completes, when they do
// not match the key.
package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"parley"
)

// PartSize is the part size of multipart uploads (blobs larger than it),
// and so the memory one Put holds in buffers.
const PartSize = 8 << 20

// Config selects the bucket and how to reach it.
type Config struct {
	// URL is s3://bucket?endpoint=…&region=…&prefix=…&lookup=path|dns.
	// endpoint is host[:port] or a URL (http:// means no TLS); zero value
	// means s3.amazonaws.com. prefix is prepended to every object name.
	// lookup chooses path-style or virtual-host requests; zero value means
	// path-style with an endpoint, automatic without.
	URL string
	// AccessKey and SecretKey authenticate requests. Zero values mean the
	// environment's: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
	// MINIO_ROOT_USER/MINIO_ROOT_PASSWORD, ~/.aws/credentials, then the
	// instance's IAM role.
	AccessKey, SecretKey string
}

// Blobs is a parley.Blobs in an S3 bucket.
type Blobs struct {
	c      *minio.Client
	bucket string
	prefix string
}

var _ parley.Blobs = (*Blobs)(nil)

// Open connects to the bucket named by cfg.URL and checks that it exists.
func Open(ctx context.Context, cfg Config) (*Blobs, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("s3: the storage URL must look like s3://bucket?endpoint=host:port")
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "endpoint", "region", "prefix", "lookup":
		default:
			return nil, fmt.Errorf("s3: unknown storage URL parameter %q (endpoint, region, prefix, lookup)", k)
		}
	}
	endpoint, secure := q.Get("endpoint"), true
	lookup := minio.BucketLookupAuto
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	} else {
		lookup = minio.BucketLookupPath
		if e, err := url.Parse(endpoint); err == nil && (e.Scheme == "http" || e.Scheme == "https") {
			endpoint, secure = e.Host, e.Scheme == "https"
		}
	}
	switch q.Get("lookup") {
	case "":
	case "path":
		lookup = minio.BucketLookupPath
	case "dns":
		lookup = minio.BucketLookupDNS
	default:
		return nil, fmt.Errorf("s3: lookup must be path or dns")
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
	})
	if cfg.AccessKey != "" || cfg.SecretKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	}
	c, err := minio.New(endpoint, &minio.Options{Creds: creds, Secure: secure, Region: q.Get("region"),
		BucketLookup: lookup, MaxRetries: 3})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	b := &Blobs{c: c, bucket: u.Host, prefix: q.Get("prefix")}
	ok, err := c.BucketExists(ctx, b.bucket)
	if err != nil {
		return nil, fmt.Errorf("s3: reach bucket %s at %s: %w", b.bucket, endpoint, err)
	}
	if !ok {
		return nil, fmt.Errorf("s3: bucket %s does not exist at %s", b.bucket, endpoint)
	}
	return b, nil
}

func (b *Blobs) name(key string) string { return b.prefix + key }

// Put uploads size bytes from r as object key, checking them on the way.
func (b *Blobs) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if !parley.ValidBlobKey(key) {
		return parley.ErrBadBlobKey
	}
	if size < 0 {
		return parley.ErrBlobMismatch
	}
	var body io.Reader = &verifier{r: r, left: size, key: key, h: sha256.New()}
	v := body.(*verifier)
	if size == 0 {
		// net/http sends a body of unknown length (chunked) for an empty
		// reader that is not a known empty one; S3 wants a length.
		if err := v.finish(); err != nil {
			return err
		}
		body = bytes.NewReader(nil)
	}
	// The payload is not signed (UNSIGNED-PAYLOAD, as minio-go does over
	// TLS anyway): Put checks the bytes itself, and chunk-signed payloads
	// are not read right by every S3-compatible store.
	_, err := b.c.PutObject(ctx, b.bucket, b.name(key), body, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream", PartSize: PartSize, DisableContentSha256: true})
	if v.err != nil {
		return v.err
	}
	return b.err(err)
}

// verifier reads exactly left bytes and, instead of the last of them,
// reports ErrBlobMismatch if their hash is not key or more bytes follow.
// The upload then ends before the object is complete.
type verifier struct {
	r    io.Reader
	left int64
	key  string
	h    hash.Hash
	err  error
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > v.left {
		p = p[:v.left]
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.left -= int64(n)
	switch {
	case errors.Is(err, io.EOF) && v.left > 0:
		v.err = parley.ErrBlobMismatch
	case err != nil && !errors.Is(err, io.EOF):
		v.err = err
	case v.left == 0:
		v.finish()
	}
	if v.err != nil {
		// The bytes of this read are withheld: the request ends short, and
		// the store keeps nothing.
		return 0, v.err
	}
	return n, nil
}

// finish checks, once size bytes are read, that no more follow and that
// the hash is the key's.
func (v *verifier) finish() error {
	var one [1]byte
	if m, _ := io.ReadFull(v.r, one[:]); m > 0 || hex.EncodeToString(v.h.Sum(nil)) != v.key {
		v.err = parley.ErrBlobMismatch
	}
	return v.err
}

// Open returns the object, after asking for it once (so that a missing one
// is ENOTFOUND here). Reads after a Seek ask for the rest from there.
func (b *Blobs) Open(ctx context.Context, key string) (parley.Blob, error) {
	if !parley.ValidBlobKey(key) {
		return nil, parley.ErrBadBlobKey
	}
	obj, err := b.c.GetObject(ctx, b.bucket, b.name(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, b.err(err)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, b.err(err)
	}
	return &object{Object: obj, size: info.Size}, nil
}

type object struct {
	*minio.Object
	size int64
}

func (o *object) Size() int64 { return o.size }

// Stat returns the object's size.
func (b *Blobs) Stat(ctx context.Context, key string) (int64, error) {
	if !parley.ValidBlobKey(key) {
		return 0, parley.ErrBadBlobKey
	}
	info, err := b.c.StatObject(ctx, b.bucket, b.name(key), minio.StatObjectOptions{})
	if err != nil {
		return 0, b.err(err)
	}
	return info.Size, nil
}

// Delete removes the object; S3 answers a missing one with success.
func (b *Blobs) Delete(ctx context.Context, key string) error {
	if !parley.ValidBlobKey(key) {
		return parley.ErrBadBlobKey
	}
	return b.err(b.c.RemoveObject(ctx, b.bucket, b.name(key), minio.RemoveObjectOptions{}))
}

// err maps minio's errors: a missing object is ENOTFOUND, a storage that
// cannot be reached or refuses (network, 5xx, credentials, a missing
// bucket) is unavailable.
func (b *Blobs) err(err error) error {
	if err == nil {
		return nil
	}
	var pe *parley.Error
	if errors.As(err, &pe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == minio.NoSuchKey:
		return parley.ErrNotFound
	case resp.StatusCode >= 500, resp.StatusCode == 403, resp.Code == minio.NoSuchBucket, isNetErr(err):
		return fmt.Errorf("%w: s3: %w", parley.ErrUnavailable, err)
	}
	return fmt.Errorf("s3: %w", err)
}

func isNetErr(err error) bool {
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) || strings.Contains(err.Error(), "connection refused")
}
