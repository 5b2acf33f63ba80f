// Package s3test starts an S3-protocol server on loopback for tests: the
// in-process implementation of github.com/johannesboyne/gofakes3 served
// over real HTTP by net/http, so that s3.Blobs is tested through minio-go
// and the wire protocol, as against any S3-compatible store.
package s3test

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Credentials the server is given with (it does not check signatures, but
// clients sign as with any store).
const (
	AccessKey = "parley-test"
	SecretKey = "parley-test-secret"
)

// Server is a running S3-protocol server.
type Server struct {
	// Endpoint is the server's base URL (http://127.0.0.1:port).
	Endpoint string

	backend *s3mem.Backend
	srv     *http.Server
	ln      net.Listener
	buckets atomic.Int64
}

// Start starts a server that stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("s3test: listen: %v", err)
	}
	s := &Server{Endpoint: "http://" + ln.Addr().String(), backend: s3mem.New(), ln: ln}
	s.srv = &http.Server{Handler: gofakes3.New(s.backend).Server()}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Logf("s3test: serve: %v", err)
		}
	}()
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// Bucket creates a fresh bucket and returns its storage URL, as given to
// `parley serve --storage-url`.
func (s *Server) Bucket(t testing.TB) string {
	t.Helper()
	name := "parley-" + strconv.FormatInt(s.buckets.Add(1), 10)
	if err := s.backend.CreateBucket(name); err != nil {
		t.Fatalf("s3test: create bucket: %v", err)
	}
	return "s3://" + name + "?endpoint=" + url.QueryEscape(s.Endpoint)
}

// Stop stops the server: requests fail as when a store is unreachable.
func (s *Server) Stop() { s.srv.Close() }

// Objects counts the objects in the bucket of a storage URL.
func (s *Server) Objects(t testing.TB, storageURL string) int {
	t.Helper()
	u, err := url.Parse(storageURL)
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.backend.ListBucket(u.Host, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatalf("s3test: list %s: %v", u.Host, err)
	}
	return len(list.Contents)
}
