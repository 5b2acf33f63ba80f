// Package app wires a Parley node together: store, bus, presence, service,
// realtime, suggestions and the HTTP handler. cmd/parley's serve and the
// end-to-end test helpers (servertest) build nodes with it, so tests run
// exactly what production runs.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"parley"
	"parley/calls"
	"parley/disk"
	phttp "parley/http"
	"parley/hub"
	pnats "parley/nats"
	"parley/postgres"
	"parley/presence"
	"parley/push"
	"parley/repair"
	"parley/s3"
	"parley/service"
	"parley/sqlite"
	"parley/suggest"
	"parley/web"
	"parley/ws"
)

// DefaultDataDir is where a node keeps its SQLite database by default.
const DefaultDataDir = "./parley-data"

// Config is everything a node needs. Zero values mean the defaults written
// on each field (and in docs/deploy.md).
type Config struct {
	// DataDir holds the SQLite database when DatabaseURL is empty. Zero
	// value means DefaultDataDir.
	DataDir string
	// DatabaseURL selects PostgreSQL (postgres://...).
	DatabaseURL string
	// NATSURL selects the NATS bus; empty means the in-process bus (one node).
	NATSURL string
	// NATSPrefix prefixes NATS subjects, so deployments can share a NATS.
	NATSPrefix string
	// NodeID names this node in connection ids and presence. Zero value: host name and pid.
	NodeID string
	// DBTimeout bounds every database call (parley.WithTimeout). Zero
	// value means parley.DefaultStoreTimeout.
	DBTimeout time.Duration
	// RepairInterval is how often the node checks that it has delivered
	// every message event stored, delivering what the bus lost (package
	// repair). Zero value means repair.DefaultInterval; a negative value
	// turns the checks off. They run only on the NATS bus: the in-process
	// bus loses nothing.
	RepairInterval time.Duration

	Service  service.Config
	Realtime ws.Config
	Presence presence.Config

	// StorageURL selects S3-compatible storage for files
	// (s3://bucket?endpoint=…, see s3.Config); zero value means the folder
	// blobs/ in the data dir. S3AccessKey and S3SecretKey authenticate to
	// it (zero values: the environment's AWS or MinIO credentials).
	StorageURL               string
	S3AccessKey, S3SecretKey string
	// Files configures uploads. Its TempDir's zero value here means the
	// folder tmp/ in the data dir.
	Files service.FilesConfig
	// UploadRate is uploads (files and photos) per user per minute. Zero
	// value means DefaultUploadRate.
	UploadRate int
	// UploadTimeout bounds a request carrying a file. Zero value means
	// phttp.DefaultUploadTimeout.
	UploadTimeout time.Duration

	// Suggest configures AI suggestions; SuggestRate is requests per user
	// per minute (zero value means suggest.DefaultPerMinute) and
	// SuggestContext the number of recent messages sent as context (zero
	// value means suggest.DefaultContext).
	Suggest        suggest.Config
	SuggestRate    int
	SuggestContext int

	// TrustedProxies are the balancers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed. Nil means loopback
	// (phttp.DefaultTrustedProxies); an empty list trusts none.
	TrustedProxies []netip.Prefix
	// BodyTimeout is how long a request, headers and body, may take to
	// arrive. Zero value means phttp.DefaultBodyTimeout.
	BodyTimeout time.Duration
	// PruneInterval is how often the node deletes old attempts and expired
	// sessions. Zero value means service.DefaultPruneInterval; negative:
	// never.
	PruneInterval time.Duration
	// MetricsToken, if set, serves /metrics on the node's handler to
	// requests bearing it (Authorization: Bearer). Without it the handler
	// serves no metrics: Node.MetricsHandler serves them on a listener of
	// their own.
	MetricsToken string
	// Calls turns on audio/video call signaling with these settings; nil
	// leaves calls off.
	Calls *calls.Config
	// Push configures Web Push (always on: the VAPID key is made at the
	// first start).
	Push push.Config
	// Extra registers more routes once the node exists (tests use it).
	Extra func(n *Node, mux *http.ServeMux, auth func(h phttp.AuthedHandler) http.Handler)
	// Features adds entries to GET /api/v1/features ("calls" says whether
	// calls run).
	Features map[string]any
	// NoWeb leaves the web app out (API-only nodes, tests).
	NoWeb bool
	// Version is the running Parley's version, shown in GET
	// /api/v1/features and the parley_build_info metric. Zero value: "dev".
	Version string
}

// DefaultUploadRate is the default of Config.UploadRate.
const DefaultUploadRate = 60

// Node is a running node's parts.
type Node struct {
	Store    parley.Store
	Bus      parley.Bus
	Blobs    parley.Blobs
	Service  *service.Service
	Files    *service.Files
	Registry *hub.Registry
	Realtime *ws.Server
	Presence *presence.Tracker
	Repair   *repair.Repairer // nil on the in-process bus
	HTTP     *phttp.Server
	Metrics  *prometheus.Registry
	Log      *slog.Logger
	NodeID   string
	// Calls is call signaling, nil when Config.Calls is.
	Calls *calls.Service
	// Push sends Web Push notifications.
	Push *push.Service

	closers []func() // see OnClose
}

// OnClose registers f to run when the node closes, before the bus and the
// store do (in reverse order of registration): parts that run goroutines
// stop them with it.
func (n *Node) OnClose(f func()) { n.closers = append(n.closers, f) }

// New opens the store and bus and builds a node.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Node, error) {
	if cfg.Calls != nil {
		if err := cfg.Calls.Validate(); err != nil {
			return nil, fmt.Errorf("calls: %w", err)
		}
	}
	if log == nil {
		log = slog.Default()
	}
	n := &Node{Log: log, Metrics: prometheus.NewRegistry()}
	n.NodeID = cfg.NodeID
	if n.NodeID == "" {
		host, _ := os.Hostname()
		n.NodeID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	var err error
	dir := cfg.DataDir
	if dir == "" {
		dir = DefaultDataDir
	}
	if cfg.StorageURL != "" {
		n.Blobs, err = s3.Open(ctx, s3.Config{URL: cfg.StorageURL, AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey})
	} else {
		n.Blobs, err = disk.Open(filepath.Join(dir, "blobs"))
	}
	if err != nil {
		return nil, fmt.Errorf("open file storage: %w", err)
	}
	if cfg.DatabaseURL != "" {
		n.Store, err = postgres.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL: %w", err)
		}
	} else {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		n.Store, err = sqlite.Open(ctx, filepath.Join(dir, "parley.db"))
		if err != nil {
			return nil, fmt.Errorf("open SQLite in %s: %w", dir, err)
		}
	}
	timeout := cfg.DBTimeout
	if timeout == 0 {
		timeout = parley.DefaultStoreTimeout
	}
	n.Store = parley.WithTimeout(n.Store, timeout)
	// The realtime server is built after the bus; the bus's reconnect
	// handler, which runs on another goroutine, finds it here.
	var realtime atomic.Pointer[ws.Server]
	if cfg.NATSURL != "" {
		opts := []pnats.Option{pnats.WithLogger(log), pnats.WithName(n.NodeID),
			// Events published while the bus was away may be lost: every
			// client of this node reconnects and syncs (docs/protocol.md).
			pnats.WithReconnectHandler(func() {
				if rt := realtime.Load(); rt != nil {
					log.Warn("bus reconnected: closing WebSockets so that clients resync", "conns", n.Registry.Conns())
					rt.Resync()
				}
			})}
		if cfg.NATSPrefix != "" {
			opts = append(opts, pnats.WithSubjectPrefix(cfg.NATSPrefix))
		}
		n.Bus, err = pnats.Open(cfg.NATSURL, opts...)
		if err != nil {
			n.Store.Close()
			return nil, fmt.Errorf("connect to NATS: %w", err)
		}
	} else {
		n.Bus = hub.NewBus()
	}
	n.Service, err = service.New(n.Store, n.Bus, cfg.Service, log)
	if err != nil {
		n.Close()
		return nil, err
	}
	if every := cfg.PruneInterval; every >= 0 {
		if every == 0 {
			every = service.DefaultPruneInterval
		}
		// Old attempts and expired sessions go on every node (docs/deploy.md).
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { n.Service.Housekeep(ctx, every) })
		n.OnClose(func() { stop(); wg.Wait() })
	}
	fc := cfg.Files
	if fc.TempDir == "" {
		fc.TempDir = filepath.Join(dir, "tmp")
	}
	n.Files, err = service.NewFiles(n.Service, n.Blobs, fc)
	if err != nil {
		n.Close()
		return nil, err
	}
	if n.Push, err = push.New(ctx, n.Store, cfg.Push, n.Metrics, log); err != nil {
		n.Close()
		return nil, fmt.Errorf("push: %w", err)
	}
	n.Push.Start()
	n.OnClose(n.Push.Close)
	n.Registry = hub.NewRegistry(n.Bus, log)
	rc := cfg.Realtime
	if rc.NodeID == "" {
		rc.NodeID = n.NodeID
	}
	// The tracker reports transitions; the realtime server tells local
	// contacts. Created before the realtime server, so the callback (which
	// runs on the tracker's goroutine, possibly at once: peers announce
	// their users as soon as the tracker subscribes) finds it through
	// realtime.
	pc := cfg.Presence
	if pc.Logger == nil {
		pc.Logger = log
	}
	n.Presence = presence.New(n.Bus, n.NodeID, pc, func(userID int64, online bool, lastSeen time.Time) {
		rt := realtime.Load()
		if rt == nil {
			return
		}
		ctx := context.Background() // each store call has its deadline
		if !online {
			if err := n.Service.SetLastSeen(ctx, userID, lastSeen); err != nil {
				log.Warn("set last seen", "err", err)
			}
		}
		rt.PresenceChanged(ctx, userID, online, lastSeen)
	})
	rt := ws.NewServer(n.Service, n.Registry, n.Presence, rc, log)
	n.Realtime = rt
	realtime.Store(rt)
	if cfg.Calls != nil {
		cc := *cfg.Calls
		cc.OnRing = func(r calls.Ring) {
			// A callee with no live connection on any node learns of the
			// call by a push (docs/protocol.md, "Who is notified").
			if n.Presence.Online(r.Callee) {
				return
			}
			timeout := r.Timeout
			if timeout == 0 {
				timeout = calls.DefaultRingTimeout
			}
			if err := n.Push.Ring(context.Background(), r.Callee, r.ConversationID, r.CallID, r.Media, r.Caller, timeout); err != nil {
				log.Warn("push: queue call push", "err", err)
			}
		}
		if n.Calls, err = calls.New(n.Service, n.Bus, cc, log); err != nil {
			n.Close()
			return nil, fmt.Errorf("start calls: %w", err)
		}
		n.Calls.Register(rt)
	}
	features := map[string]any{}
	for k, v := range cfg.Features {
		features[k] = v
	}
	features["calls"] = n.Calls != nil
	version := cfg.Version
	if version == "" {
		version = "dev"
	}
	features["version"] = version

	provider, err := suggest.New(withLogger(cfg.Suggest, log))
	if err != nil {
		n.Close()
		return nil, err
	}
	uploadRate := cfg.UploadRate
	if uploadRate == 0 {
		uploadRate = DefaultUploadRate
	}
	opt := phttp.Options{Service: n.Service, Realtime: rt, Log: log, Metrics: n.Metrics,
		SuggestContext: cfg.SuggestContext, Features: features, TrustedProxies: cfg.TrustedProxies,
		MetricsToken: cfg.MetricsToken, BodyTimeout: cfg.BodyTimeout, Files: n.Files,
		UploadLimiter: suggest.NewLimiter(uploadRate, 100_000), UploadTimeout: cfg.UploadTimeout, Push: n.Push,
		Live: func() (int, int) { return n.Registry.Conns(), n.Presence.OnlineCount() }}
	if provider != nil {
		opt.Suggest = provider
		opt.SuggestLimiter = suggest.NewLimiter(cfg.SuggestRate, 100_000)
	}
	if !cfg.NoWeb {
		opt.Web = web.Handler()
	}
	opt.Extra = func(mux *http.ServeMux, auth func(h phttp.AuthedHandler) http.Handler) {
		if n.Calls != nil {
			mux.Handle("GET /api/v1/calls/ice-servers", auth(n.Calls.HandleICEServers))
		}
		if cfg.Extra != nil {
			cfg.Extra(n, mux, auth)
		}
	}
	n.HTTP = phttp.NewServer(opt)
	n.Metrics.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "parley_build_info", Help: "Always 1; its labels say which Parley this node runs.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	}, func() float64 { return 1 }))
	n.Metrics.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "parley_ws_connections", Help: "Open WebSocket connections on this node.",
	}, func() float64 { return float64(n.Registry.Conns()) }))
	n.Metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "parley_messages_sent_total", Help: "Messages people sent through this node (REST or WebSocket), resends of a stored one not counted.",
	}, func() float64 { return float64(n.Service.MessagesSent()) }))
	if cfg.NATSURL != "" && cfg.RepairInterval >= 0 {
		n.Repair = repair.New(n.Registry, n.Service, cfg.RepairInterval, log)
		n.Repair.Start()
		n.Metrics.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "parley_repair_events_total", Help: "Message events the bus lost that this node delivered from the store.",
			}, func() float64 { return float64(n.Repair.Stats().Events) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "parley_repair_resyncs_total", Help: "Conversations that lost too many events to repair, whose connections here were asked to resync.",
			}, func() float64 { return float64(n.Repair.Stats().Resyncs) }))
	}
	n.Metrics.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "parley_ws_queued_bytes",
		Help: "Bytes the node's WebSocket outbound queues hold, an event shared by many connections counted once (bounded by --ws-queue-budget).",
	}, func() float64 { return float64(rt.QueuedBytes()) }))
	for _, reason := range ws.DropReasons() {
		n.Metrics.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "parley_ws_slow_consumer_drops_total",
			Help:        "WebSocket connections dropped because their client fell too far behind (4008: queue_bytes, queue_age, budget) or answered no ping (no_pong), by reason.",
			ConstLabels: prometheus.Labels{"reason": reason},
		}, func() float64 { return float64(rt.SlowConsumerDrops(reason)) }))
	}
	return n, nil
}

func withLogger(c suggest.Config, log *slog.Logger) suggest.Config {
	if c.Logger == nil {
		c.Logger = log
	}
	return c
}

// Shutdown stops the node's realtime side in the order that sends clients
// elsewhere: first /readyz answers 503 and WebSocket upgrades are refused
// (503 unavailable), so that no client connects into a node that is
// stopping; then every WebSocket is closed with 1001 (clients reconnect,
// through the balancer, to another node), waiting for them until ctx ends.
// Call it before http.Server.Shutdown.
func (n *Node) Shutdown(ctx context.Context) {
	if n.HTTP != nil {
		n.HTTP.Drain()
	}
	if n.Realtime != nil {
		n.Realtime.Drain()
		n.Realtime.Shutdown(ctx)
	}
}

// Close stops calls and runs the OnClose functions, then releases
// presence, the bus and the store.
func (n *Node) Close() error {
	var errs []error
	if n.Calls != nil {
		n.Calls.Close()
	}
	for i := len(n.closers) - 1; i >= 0; i-- {
		n.closers[i]()
	}
	n.closers = nil
	if n.Repair != nil {
		n.Repair.Close()
	}
	if n.Files != nil {
		n.Files.Close()
	}
	if n.Presence != nil {
		n.Presence.Close()
	}
	if n.Bus != nil {
		errs = append(errs, n.Bus.Close())
	}
	if n.Store != nil {
		errs = append(errs, n.Store.Close())
	}
	return errors.Join(errs...)
}
