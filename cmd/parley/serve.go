package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	"time"

	"parley"
	"parley/app"
	phttp "parley/http"
	"parley/repair"
	"parley/service"
	"parley/suggest"
	"parley/web"
	"parley/ws"
)

// listenConfig is where serve listens: the node's address and, if set,
// addresses of their own for the profiler and the metrics.
type listenConfig struct {
	addr  string
	pprof string
	// metrics is the address of the metrics listener; empty: none.
	metrics string
}

// serveConfig parses serve's flags and environment into an app.Config.
func serveConfig(args []string, getenv func(string) string, stderr io.Writer) (app.Config, listenConfig, *slog.Logger, error) {
	f := newFlags("serve", getenv, stderr)
	addr := f.String("addr", "PARLEY_ADDR", "127.0.0.1:8080", "address to listen on")
	pprofAddr := f.String("pprof", "PARLEY_PPROF", "", "address for the Go profiler (net/http/pprof), e.g. 127.0.0.1:6060; off when empty; never expose it publicly")
	pruneInterval := f.Duration("prune-interval", "PARLEY_PRUNE_INTERVAL", service.DefaultPruneInterval, "how often the node deletes attempts older than a day and expired sessions (0: never)")
	bodyTimeout := f.Duration("body-timeout", "PARLEY_BODY_TIMEOUT", phttp.DefaultBodyTimeout, "time a request (headers and body) may take to arrive; slower ones are cut (400)")
	metricsAddr := f.String("metrics-addr", "PARLEY_METRICS_ADDR", "", "address of a listener of its own for GET /metrics (Prometheus), e.g. 127.0.0.1:9090; off when empty; keep it private")
	metricsToken := f.Secret("metrics-token", "PARLEY_METRICS_TOKEN", "if set, GET /metrics answers requests bearing it (Authorization: Bearer), on the public port too")
	dataDir := f.String("data-dir", "PARLEY_DATA_DIR", app.DefaultDataDir, "folder for the SQLite database (when no database URL is set)")
	dbURL := f.Secret("database-url", "PARLEY_DATABASE_URL", "PostgreSQL URL (postgres://...), which may hold a password; empty uses SQLite in the data dir")
	natsURL := f.Secret("nats-url", "PARLEY_NATS_URL", "NATS URL(s) for many nodes, which may hold a user and password; empty uses the in-process bus")
	natsPrefix := f.String("nats-prefix", "PARLEY_NATS_PREFIX", "", "prefix for NATS subjects (deployments sharing a NATS)")
	nodeID := f.String("node-id", "PARLEY_NODE_ID", "", "this node's name (default: host name and pid)")
	dbTimeout := f.Duration("db-timeout", "PARLEY_DB_TIMEOUT", parley.DefaultStoreTimeout, "time limit of each database call; a request whose call runs out answers 503 unavailable")
	repairInterval := f.Duration("repair-interval", "PARLEY_REPAIR_INTERVAL", repair.DefaultInterval, "how often a node checks, with NATS, that it has delivered every message stored, and delivers what the bus lost; 0 turns it off")
	logLevel := f.String("log-level", "PARLEY_LOG_LEVEL", "info", "debug, info, warn or error")
	logFormat := f.String("log-format", "PARLEY_LOG_FORMAT", "text", "text or json")
	sessionTTL := f.Duration("session-ttl", "PARLEY_SESSION_TTL", service.DefaultSessionTTL, "sessions expire after this long unused")
	maxMembers := f.Int("max-group-members", "PARLEY_MAX_GROUP_MEMBERS", parley.DefaultMaxMembers, "members per group")
	largeGroup := f.Int("large-group", "PARLEY_LARGE_GROUP", service.DefaultLargeGroup, "groups above this size share no presence and send receipts only to the member's devices")
	origins := f.String("allowed-origins", "PARLEY_ALLOWED_ORIGINS", "", "comma-separated extra Origin host patterns allowed for WebSockets")
	trustedProxies := f.String("trusted-proxies", "PARLEY_TRUSTED_PROXIES", phttp.DefaultTrustedProxies,
		"comma-separated CIDRs of the balancers whose X-Forwarded-For and X-Forwarded-Proto are believed (empty: none)")
	maxConns := f.Int("max-conns-per-user", "PARLEY_MAX_CONNS_PER_USER", ws.DefaultMaxConnsPerUser, "WebSocket connections per user per node")
	queueBytes := f.Int("ws-queue-bytes", "PARLEY_WS_QUEUE_BYTES", ws.DefaultQueueBytes, "bytes a WebSocket's outbound queue may hold before the client is dropped as too slow (4008)")
	queueAge := f.Duration("ws-queue-age", "PARLEY_WS_QUEUE_AGE", ws.DefaultQueueAge, "age of the oldest event a WebSocket's outbound queue may hold (and longest write) before the client is dropped as too slow (4008)")
	queueBudget := f.Int("ws-queue-budget", "PARLEY_WS_QUEUE_BUDGET", ws.DefaultQueueBudget, "bytes all WebSocket outbound queues of the node may hold (an event shared by many connections counted once); over it the clients furthest behind are dropped")
	writeInterval := f.Duration("ws-write-interval", "PARLEY_WS_WRITE_INTERVAL", ws.DefaultWriteInterval, "spacing of writes to a WebSocket that receives many events (those queued meanwhile go out together); negative: write at once")
	ai := f.String("ai", "PARLEY_AI", "", "suggestions: builtin, openai or off (default: openai when a base URL is set, else builtin)")
	aiURL := f.String("ai-base-url", "PARLEY_AI_BASE_URL", "", "OpenAI-compatible API base URL, e.g. http://localhost:11434/v1")
	aiKey := f.Secret("ai-api-key", "PARLEY_AI_API_KEY", "API key for the AI endpoint")
	aiModel := f.String("ai-model", "PARLEY_AI_MODEL", "", "model name (default "+suggest.DefaultModel+")")
	aiTimeout := f.Duration("ai-timeout", "PARLEY_AI_TIMEOUT", suggest.DefaultTimeout, "time limit of one suggestion request")
	aiRate := f.Int("ai-rate", "PARLEY_AI_RATE", suggest.DefaultPerMinute, "suggestion requests per user per minute")
	aiContext := f.Int("ai-context", "PARLEY_AI_CONTEXT", suggest.DefaultContext, "recent messages sent to the model as context")
	hashMem := f.Int("hash-memory", "PARLEY_HASH_MEMORY", service.DefaultHashMemory, "argon2id memory in KiB for new password hashes")
	hashTime := f.Int("hash-time", "PARLEY_HASH_TIME", service.DefaultHashTime, "argon2id iterations for new password hashes")
	hashConc := f.Int("hash-concurrency", "PARLEY_HASH_CONCURRENCY", 0, "password hashes computed at once; others wait up to 5 s, then 503 (0: one per CPU)")
	signupRate := f.Int("signup-rate", "PARLEY_SIGNUP_RATE", service.DefaultSignupsPerHour, "sign-ups per client address per hour")
	signup := f.String("signup", "PARLEY_SIGNUP", parley.SignupOpen, "who may create an account: open (anyone), invite (with an invitation link) or closed (only admins create accounts; `parley admin user create`)")
	invitesByMembers := f.Bool("invites-by-members", "PARLEY_INVITES_BY_MEMBERS", false, "every member may create invitations, not only admins")
	applyCalls := callFlags(f)
	applyPresence := presenceFlags(f)
	applyFiles := filesFlags(f)
	applyPush := pushFlags(f)
	if err := f.parse(args); err != nil {
		if !isHelp(err) {
			err = fmt.Errorf("%w (see 'parley serve -h')", err)
		}
		return app.Config{}, listenConfig{}, nil, err
	}
	if getenv("PARLEY_TRUST_PROXY") != "" {
		return app.Config{}, listenConfig{}, nil, fmt.Errorf("$PARLEY_TRUST_PROXY is no longer read: list your balancers' addresses in $PARLEY_TRUSTED_PROXIES (CIDRs; default %s)", phttp.DefaultTrustedProxies)
	}
	proxies, err := phttp.ParseTrustedProxies(*trustedProxies)
	if err != nil {
		return app.Config{}, listenConfig{}, nil, fmt.Errorf("--trusted-proxies: %w", err)
	}
	if *pruneInterval < 0 {
		return app.Config{}, listenConfig{}, nil, fmt.Errorf("--prune-interval must not be negative")
	} else if *pruneInterval == 0 {
		*pruneInterval = -1 // app.Config: negative is never
	}
	if *bodyTimeout <= 0 {
		return app.Config{}, listenConfig{}, nil, fmt.Errorf("--body-timeout must be positive")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return app.Config{}, listenConfig{}, nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var log *slog.Logger
	switch *logFormat {
	case "text":
		log = slog.New(slog.NewTextHandler(stderr, opts))
	case "json":
		log = slog.New(slog.NewJSONHandler(stderr, opts))
	default:
		return app.Config{}, listenConfig{}, nil, fmt.Errorf("--log-format must be text or json")
	}
	if *repairInterval == 0 {
		*repairInterval = -1 // off
	} else if *repairInterval < 0 {
		return app.Config{}, listenConfig{}, nil, fmt.Errorf("--repair-interval must not be negative")
	}
	if *dbTimeout <= 0 {
		return app.Config{}, listenConfig{}, nil, fmt.Errorf("--db-timeout must be positive")
	}
	if *hashMem < 8*1024 || *hashTime < 1 {
		return app.Config{}, listenConfig{}, nil, fmt.Errorf("--hash-memory must be at least 8192 KiB and --hash-time at least 1")
	}
	if err := parley.ValidateSignupPolicy(*signup); err != nil {
		return app.Config{}, listenConfig{}, nil, fmt.Errorf("--signup must be open, invite or closed")
	}
	if *hashConc < 0 || *signupRate < 1 {
		return app.Config{}, listenConfig{}, nil, fmt.Errorf("--hash-concurrency must not be negative and --signup-rate must be at least 1")
	}
	if *queueBytes < 64<<10 || *queueAge < 100*time.Millisecond || *queueBudget < *queueBytes {
		return app.Config{}, listenConfig{}, nil, fmt.Errorf("queue limits out of range: --ws-queue-bytes at least 65536, --ws-queue-age at least 100ms, --ws-queue-budget at least --ws-queue-bytes")
	}
	if *maxMembers < 2 || *largeGroup < 2 || *maxConns < 1 || *aiRate < 1 || *aiContext < 1 || *aiContext > 200 {
		return app.Config{}, listenConfig{}, nil, fmt.Errorf("limits out of range: --max-group-members and --large-group at least 2, --max-conns-per-user and --ai-rate at least 1, --ai-context 1 to 200")
	}
	cfg := app.Config{
		DataDir: *dataDir, DatabaseURL: *dbURL, NATSURL: *natsURL, NATSPrefix: *natsPrefix, NodeID: *nodeID, DBTimeout: *dbTimeout, RepairInterval: *repairInterval,
		Service: service.Config{SessionTTL: *sessionTTL, MaxGroupMembers: *maxMembers, LargeGroup: *largeGroup,
			Hash:            service.HashParams{Memory: uint32(*hashMem), Time: uint32(*hashTime)},
			HashConcurrency: *hashConc, SignupsPerHour: *signupRate, Signup: *signup, InvitesByMembers: *invitesByMembers},
		Suggest:     suggest.Config{Mode: *ai, BaseURL: *aiURL, APIKey: *aiKey, Model: *aiModel, Timeout: *aiTimeout},
		SuggestRate: *aiRate, SuggestContext: *aiContext,
		TrustedProxies: proxies, MetricsToken: *metricsToken, BodyTimeout: *bodyTimeout, PruneInterval: *pruneInterval,
		Version: version,
	}
	cfg.Realtime.AllowedOrigins = splitList(*origins)
	cfg.Realtime.MaxConnsPerUser = *maxConns
	cfg.Realtime.WriteInterval = *writeInterval
	cfg.Realtime.QueueBytes, cfg.Realtime.QueueAge, cfg.Realtime.QueueBudget = *queueBytes, *queueAge, int64(*queueBudget)
	if err := applyCalls(&cfg); err != nil {
		return app.Config{}, listenConfig{}, nil, err
	}
	if err := applyPresence(&cfg); err != nil {
		return app.Config{}, listenConfig{}, nil, err
	}
	if err := applyFiles(&cfg); err != nil {
		return app.Config{}, listenConfig{}, nil, err
	}
	if err := applyPush(&cfg); err != nil {
		return app.Config{}, listenConfig{}, nil, err
	}
	return cfg, listenConfig{addr: *addr, pprof: *pprofAddr, metrics: *metricsAddr}, log, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, lc, log, err := serveConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	if _, err := raiseFileLimit(); err != nil {
		log.Warn("raise the open file limit", "err", err)
	}
	if before, after := ensureProcs(getenv); after != before {
		log.Info("GOMAXPROCS raised so that the store's writer is not kept waiting behind connections", "from", before, "to", after)
	}
	if lc.pprof != "" {
		stop, err := serveAside(lc.pprof, "profiler", "/debug/pprof/", profilerHandler(), log)
		if err != nil {
			return err
		}
		defer stop()
	}
	node, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer node.Close()
	if lc.metrics != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", phttp.MetricsHandler(node.Metrics, cfg.MetricsToken))
		stop, err := serveAside(lc.metrics, "metrics", "/metrics", mux, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	ln, err := net.Listen("tcp", lc.addr)
	if err != nil {
		return err
	}
	srv := phttp.NewHTTPServer(node.HTTP, log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	store := "SQLite in " + cfg.DataDir
	if cfg.DatabaseURL != "" {
		store = "PostgreSQL"
	}
	bus := "in-process bus"
	if cfg.NATSURL != "" {
		bus = "NATS"
	}
	log.Info("parley is serving", "url", url, "store", store, "bus", bus, "node", node.NodeID)
	fmt.Fprintf(stdout, "Parley is running at %s (%s, %s)\n", url, store, bus)
	if !webBuilt() {
		fmt.Fprintln(stdout, "The web app has not been built: run 'make run' (or 'make web') to build it. The API works without it.")
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: /readyz 503 and upgrades refused, then WebSockets closed")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	node.Shutdown(sctx)
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func webBuilt() bool { return web.Built() }
