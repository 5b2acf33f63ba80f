// Package clustertest runs Parley as a deployment of several stateless
// nodes in tests: every node on the same PostgreSQL schema and the same NATS
// subject prefix, each on its own loopback port (servertest), with the
// pieces a test needs to break things on purpose — a round-robin load
// balancer (Balancer) and, from package pgtest, a TCP proxy that can cut
// the database away.
//
// The tests of this package use it to show that the promises of
// /work/shared/DESIGN.md hold across nodes and through node, NATS and
// PostgreSQL failures; docs/deploy.md describes the same topology for
// production.
//
// # Services
//
// PostgreSQL is the one named by PARLEY_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/test), NATS the one named by
// PARLEY_TEST_NATS_URL (default nats://127.0.0.1:4222). Each deployment
// gets a fresh schema (through search_path; dropped when the test ends) and
// a fresh subject prefix, so runs sharing the servers never see each other.
// When a service cannot be reached the test is skipped with a message,
// except with CI=true, where it fails.
package clustertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	natsgo "github.com/nats-io/nats.go"

	"parley/app"
	"parley/pgtest"
	"parley/presence"
	"parley/servertest"
)

// DefaultNATSURL is the test NATS server when the environment names none.
const DefaultNATSURL = "nats://127.0.0.1:4222"

// Presence is the presence timing of test deployments: a node heartbeats
// every 200 ms, a node silent for 1 s is forgotten, and a user is reported
// offline 300 ms after their last connection closed. A user of a node that
// dies is reported offline at most NodeTimeout + OfflineGrace after the
// node's last heartbeat.
var Presence = presence.Config{
	Heartbeat:    200 * time.Millisecond,
	NodeTimeout:  time.Second,
	OfflineGrace: 300 * time.Millisecond,
}

// unreachable skips the test, or fails it when CI=true.
func unreachable(t testing.TB, what, env, target string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s at %s is unreachable (CI=true, so this fails): %v", what, target, err)
	}
	t.Skipf("%s at %s is unreachable; start it or set %s to run this test: %v", what, target, env, err)
}

// NATSURL returns the test NATS server's URL as the environment names it.
func NATSURL() string {
	if u := os.Getenv("PARLEY_TEST_NATS_URL"); u != "" {
		return u
	}
	return DefaultNATSURL
}

// Postgres returns the URL of a fresh, empty schema on the test database
// (the first node to open it creates the schema and its tables). The schema
// is dropped when the test ends, after the nodes started later have
// stopped.
func Postgres(t testing.TB) string {
	t.Helper()
	return pgtest.WithParams(t, pgtest.BaseURL(), map[string]string{"search_path": pgtest.Schema(t, "parley_cluster_")})
}

// Connect opens a connection to the database at dbURL (a URL returned by
// Postgres), closed when the test ends: tests look at what the nodes
// stored without going through them.
func Connect(t testing.TB, dbURL string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgtest.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

var natsReach struct {
	once sync.Once
	err  error
}

// NATS returns the test NATS server's URL, skipping the test (failing it
// with CI=true) when there is none.
func NATS(t testing.TB) string {
	t.Helper()
	u := NATSURL()
	natsReach.once.Do(func() {
		nc, err := natsgo.Connect(u, natsgo.Timeout(5*time.Second), natsgo.NoReconnect())
		if err == nil {
			nc.Close()
		}
		natsReach.err = err
	})
	if natsReach.err != nil {
		unreachable(t, "NATS", "PARLEY_TEST_NATS_URL", u, natsReach.err)
	}
	return u
}

// NewPrefix returns a fresh NATS subject prefix.
func NewPrefix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "test.cluster." + hex.EncodeToString(b)
}

// Deployment is what the nodes of one deployment share.
type Deployment struct {
	DatabaseURL string
	NATSURL     string
	NATSPrefix  string
	// Configure, if set, adjusts each node's configuration.
	Configure func(c *app.Config)
}

// New returns a deployment on the test PostgreSQL (a fresh schema) and the
// test NATS (a fresh prefix).
func New(t testing.TB) *Deployment {
	t.Helper()
	db := Postgres(t)
	return &Deployment{DatabaseURL: db, NATSURL: NATS(t), NATSPrefix: NewPrefix()}
}

// Config returns the configuration of node nodeID: the deployment's store
// and bus, test presence timing (Presence), the cheapest password hashing,
// operation limits raised for tests that send fast, no web app.
func (d *Deployment) Config(nodeID string) app.Config {
	c := app.Config{DatabaseURL: d.DatabaseURL, NATSURL: d.NATSURL, NATSPrefix: d.NATSPrefix, NodeID: nodeID,
		NoWeb: true, Presence: Presence}
	c.Service.Hash.Memory = 8 * 1024
	c.Service.SignupsPerHour = 1 << 20
	c.Service.Hash.Time = 1
	c.Realtime.OpsPerSecond = 1000
	c.Realtime.OpsBurst = 1000
	if d.Configure != nil {
		d.Configure(&c)
	}
	return c
}

// Start runs node nodeID of the deployment on a loopback port; it stops
// with the test.
func (d *Deployment) Start(t testing.TB, nodeID string) *servertest.Server {
	t.Helper()
	return servertest.StartConfig(t, d.Config(nodeID))
}

// StartN runs nodes n1 … nN.
func (d *Deployment) StartN(t testing.TB, n int) []*servertest.Server {
	t.Helper()
	nodes := make([]*servertest.Server, n)
	for i := range nodes {
		nodes[i] = d.Start(t, fmt.Sprintf("n%d", i+1))
	}
	return nodes
}

// ServeArgs returns the `parley serve` arguments of node nodeID listening
// on addr, the same settings Config gives an in-process node.
func (d *Deployment) ServeArgs(nodeID, addr string) []string {
	return []string{"serve", "--addr", addr, "--node-id", nodeID,
		"--database-url", d.DatabaseURL, "--nats-url", d.NATSURL, "--nats-prefix", d.NATSPrefix,
		"--hash-memory", "8192", "--hash-time", "1", "--signup-rate", "1000000", "--log-level", "warn",
		"--presence-heartbeat", Presence.Heartbeat.String(),
		"--presence-node-timeout", Presence.NodeTimeout.String(),
		"--presence-grace", Presence.OfflineGrace.String()}
}

// HostPort returns the host:port of an http:// URL.
func HostPort(rawURL string) string { return strings.TrimPrefix(rawURL, "http://") }
