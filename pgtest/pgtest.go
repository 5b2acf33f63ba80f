// Package pgtest gives tests the PostgreSQL they run against: the server
// named by PARLEY_TEST_DATABASE_URL (default: the one on this machine), a
// fresh schema per test (dropped when it ends), URL helpers, and the TCP
// proxy every test uses to take a server away (the database under a
// running store or node, a node's NATS link, a device's network).
//
// When the database cannot be reached a test is skipped with a message,
// except with CI=true, where it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultURL is the test database when the environment names none.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseURL returns the test database's URL as the environment names it.
func BaseURL() string {
	if u := os.Getenv("PARLEY_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

var reach struct {
	once sync.Once
	err  error
}

// Need skips the test, or fails it when CI=true, if the test database
// cannot be reached.
func Need(t testing.TB) {
	t.Helper()
	reach.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := Connect(ctx, BaseURL())
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		reach.err = err
	})
	if reach.err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL at %s is unreachable (CI=true, so this fails): %v", Redact(BaseURL()), reach.err)
	}
	t.Skipf("PostgreSQL at %s is unreachable; start it or set PARLEY_TEST_DATABASE_URL to run this test: %v", Redact(BaseURL()), reach.err)
}

// Schema returns a fresh schema name starting with prefix, dropped (if it
// was created) when the test ends. It calls Need first.
func Schema(t testing.TB, prefix string) string {
	t.Helper()
	Need(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := Connect(ctx, BaseURL())
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// Connect opens one plain connection to dbURL (pool_* parameters, which
// are for pgxpool, are left out).
func Connect(ctx context.Context, dbURL string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(stripPoolParams(dbURL))
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg)
}

func stripPoolParams(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || !strings.Contains(dbURL, "://") {
		return dbURL
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// WithParams returns the database URL (or key=value string) with extra
// parameters.
func WithParams(t testing.TB, dbURL string, params map[string]string) string {
	t.Helper()
	if !strings.Contains(dbURL, "://") {
		for k, v := range params {
			dbURL += fmt.Sprintf(" %s='%s'", k, v)
		}
		return dbURL
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("database URL: %v", err)
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Target returns the network and address of the database server named by
// dbURL, for a Proxy to forward to.
func Target(t testing.TB, dbURL string) (network, address string) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(stripPoolParams(dbURL))
	if err != nil {
		t.Fatalf("database URL: %v", err)
	}
	if strings.HasPrefix(cfg.Host, "/") {
		return "unix", fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	}
	return "tcp", fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)
}

// ThroughProxy returns dbURL with its server replaced by the proxy at
// addr (host:port on loopback).
func ThroughProxy(t testing.TB, dbURL, addr string) string {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	if !strings.Contains(dbURL, "://") {
		return dbURL + fmt.Sprintf(" host=%s port=%s", host, port)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("database URL: %v", err)
	}
	u.Host = addr
	q := u.Query()
	q.Del("host") // a socket directory given as a parameter
	q.Del("port")
	u.RawQuery = q.Encode()
	return u.String()
}

// Redact hides the password of a database URL, for messages.
func Redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxx")
		}
		return u.String()
	}
	return s
}
