package push

import (
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"parley"
	"parley/suggest"
)

// Defaults of the Config fields that are also serve's flags.
const (
	DefaultDelay   = 10 * time.Second
	DefaultWorkers = 32
	DefaultPerHost = 8
	DefaultSubject = "mailto:push@parley.invalid"
)

// Timing of the pushes (docs/protocol.md, "Who is notified").
const (
	// MessageTTL is how long a push service keeps a message notification
	// for a device that is offline.
	MessageTTL = 24 * time.Hour
	// MaxAttempts bounds the tries of a push the push service fails (5xx,
	// network errors); then it is dropped.
	MaxAttempts = 6
	// RetryBase and RetryCap shape the backoff between tries: RetryBase
	// doubled per try, at most RetryCap.
	RetryBase = time.Second
	RetryCap  = 5 * time.Minute
	// RetryAfterCap bounds how long a push service's Retry-After holds
	// its host back.
	RetryAfterCap = time.Hour
	// RetryAfterDefault holds a host back after a 429 without Retry-After.
	RetryAfterDefault = time.Minute
	// SendTimeout bounds one request to a push service.
	SendTimeout = 30 * time.Second
	// SubscribeRate is the new subscriptions on servers that are no known
	// push service a user may register per minute: each makes the server
	// ask that server whether it is a UnifiedPush server.
	SubscribeRate = 10
)

// Config holds the push settings. Zero values mean the defaults written on
// each field.
type Config struct {
	// Delay is how long a message waits for a device of a member to have
	// it before the member is pushed to. Zero value means DefaultDelay.
	Delay time.Duration
	// AllowedHosts are host:port pairs pushes may go to besides the
	// public push services, also on private or loopback addresses and
	// over plain http (a testing setting).
	AllowedHosts []string
	// Subject is the VAPID "sub": a mailto: or https: URL where push
	// services can reach the operator. Zero value means DefaultSubject.
	Subject string
	// Workers bounds the pushes being sent at once by this node; PerHost
	// those to one push service. Zero values mean DefaultWorkers and
	// DefaultPerHost.
	Workers, PerHost int
	// Poll is how often the node looks for decisions and pushes that are
	// due. Zero value means a quarter of Delay, at most a second.
	Poll time.Duration
	// SendHold is how long a node holds the pushes it takes to send;
	// after it, any node may take them (the holder died). Zero value means
	// DefaultSendHold (tests shorten it).
	SendHold time.Duration
	// ExpireEvery is how often the node deletes subscriptions unused for
	// 60 days. Zero value means an hour.
	ExpireEvery time.Duration
	// Now returns the current time; zero value means time.Now.
	Now func() time.Time
	// Sender replaces the Web Push sender (tests of the pool).
	Sender Sender
}

func (c Config) withDefaults() Config {
	if c.Delay == 0 {
		c.Delay = DefaultDelay
	}
	if c.Subject == "" {
		c.Subject = DefaultSubject
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.PerHost == 0 {
		c.PerHost = DefaultPerHost
	}
	if c.Poll == 0 {
		c.Poll = min(c.Delay/4, time.Second)
		c.Poll = max(c.Poll, 10*time.Millisecond)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SendHold == 0 {
		c.SendHold = DefaultSendHold
	}
	if c.ExpireEvery == 0 {
		c.ExpireEvery = time.Hour
	}
	return c
}

// Store is what push needs of the store.
type Store interface {
	parley.PushStore
}

// Service is Web Push on one node: subscriptions, the push decision and the
// sender pool. Every node runs one; the store makes each decision once and
// each push once (docs/protocol.md, "Who is notified").
type Service struct {
	store   Store
	cfg     Config
	log     *slog.Logger
	key     parley.VAPIDKey
	guard   *Guard
	sender  Sender
	limiter *suggest.Limiter
	m       *metrics

	wake     chan struct{} // a push was queued here: look at once
	stop     chan struct{}
	stopCtx  context.Context // done at Close: requests in flight end
	stopNow  context.CancelFunc
	wg       sync.WaitGroup
	stopOnce sync.Once

	mu      sync.Mutex
	busy    map[string]int       // host → pushes being sent
	blocked map[string]time.Time // host → held back until (429)
	running int

	transports []*http.Transport // closed with the service
}

// New loads the deployment's VAPID key, generating and storing it if there
// is none (every node ends up with the same), and returns the service. Call
// Start to run its loops.
func New(ctx context.Context, store Store, cfg Config, reg prometheus.Registerer, log *slog.Logger) (*Service, error) {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.Default()
	}
	guard, err := NewGuard(cfg.AllowedHosts)
	if err != nil {
		return nil, err
	}
	key, err := LoadKey(ctx, store, cfg.Now())
	if err != nil {
		return nil, err
	}
	s := &Service{store: store, cfg: cfg, log: log, key: key, guard: guard,
		limiter: suggest.NewLimiter(SubscribeRate, 100_000), m: newMetrics(reg),
		wake: make(chan struct{}, 1), stop: make(chan struct{}),
		busy: map[string]int{}, blocked: map[string]time.Time{}}
	s.stopCtx, s.stopNow = context.WithCancel(context.Background())
	s.sender = cfg.Sender
	if s.sender == nil {
		tr := guard.Transport(cfg.PerHost)
		s.transports = append(s.transports, tr)
		client := &http.Client{Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		s.sender = NewWebPush(key, cfg.Subject, client)
	}
	return s, nil
}

// LoadKey returns the stored VAPID key, storing a new one if there is none.
func LoadKey(ctx context.Context, store Store, now time.Time) (parley.VAPIDKey, error) {
	key, err := store.VAPIDKey(ctx)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		var k parley.VAPIDKey
		if k, err = NewVAPIDKey(now); err == nil {
			key, err = store.InitVAPIDKey(ctx, k)
		}
	}
	return key, err
}

// PublicKey is the VAPID public key browsers subscribe with
// (applicationServerKey), base64url without padding.
func (s *Service) PublicKey() string { return s.key.Public }

// Guard is the service's endpoint guard.
func (s *Service) Guard() *Guard { return s.guard }

// Subscribe stores a subscription of userID (a browser's
// PushSubscription.toJSON() and a label for the device), replacing one with
// the same endpoint. created is false when the user had it already.
func (s *Service) Subscribe(ctx context.Context, userID int64, endpoint, p256dh, auth, label string) (parley.PushSubscription, bool, error) {
	label = strings.TrimSpace(label)
	switch {
	case endpoint == "":
		return parley.PushSubscription{}, false, parley.FieldErrorf("endpoint", "Give the subscription's endpoint.")
	case !validKey(p256dh, 65):
		return parley.PushSubscription{}, false, parley.FieldErrorf("keys", "keys.p256dh must be a P-256 public key, base64url (65 bytes uncompressed).")
	case !validKey(auth, 16):
		return parley.PushSubscription{}, false, parley.FieldErrorf("keys", "keys.auth must be 16 bytes, base64url.")
	case !utf8.ValidString(label) || utf8.RuneCountInString(label) > parley.PushLabelMax:
		return parley.PushSubscription{}, false, parley.FieldErrorf("label", "The label may be at most %d characters.", parley.PushLabelMax)
	}
	own, err := s.store.PushSubscriptions(ctx, userID)
	if err != nil {
		return parley.PushSubscription{}, false, err
	}
	created := true
	for _, o := range own {
		if o.Endpoint == endpoint {
			created = false
		}
	}
	if created {
		limit := func() error {
			if ok, retry := s.limiter.Allow(userID); !ok {
				return &parley.Error{Code: parley.ERATELIMITED,
					Message: "Too many subscriptions on servers that are no known push service in a minute.", RetryAfter: retry}
			}
			return nil
		}
		if err := s.guard.CheckEndpoint(ctx, endpoint, limit); err != nil {
			return parley.PushSubscription{}, false, err
		}
	}
	sub := parley.PushSubscription{UserID: userID, Endpoint: endpoint, P256dh: p256dh, Auth: auth, Label: label,
		LastUsed: s.cfg.Now()}
	if err := s.store.AddPushSubscription(ctx, &sub, parley.PushSubscriptionsMax); err != nil {
		return parley.PushSubscription{}, false, err
	}
	return sub, created, nil
}

// validKey reports whether k is base64url (padded or not) of n bytes, and
// for a public key a point on P-256.
func validKey(k string, n int) bool {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(k, "="))
	if err != nil || len(b) != n {
		return false
	}
	if n == 65 {
		_, err = ecdh.P256().NewPublicKey(b)
		return err == nil
	}
	return true
}

// Subscriptions lists the user's subscriptions, oldest first.
func (s *Service) Subscriptions(ctx context.Context, userID int64) ([]parley.PushSubscription, error) {
	return s.store.PushSubscriptions(ctx, userID)
}

// Unsubscribe deletes one of the user's subscriptions.
func (s *Service) Unsubscribe(ctx context.Context, userID, id int64) error {
	if id <= 0 {
		return parley.ErrNotFound
	}
	return s.store.DeletePushSubscription(ctx, userID, id)
}

// Start runs the node's push loops until Close.
func (s *Service) Start() {
	s.wg.Go(s.decideLoop)
	s.wg.Go(s.sendLoop)
	s.wg.Go(s.expireLoop)
}

// Close stops the loops and ends the requests in flight (their pushes
// stay held in the store, to be sent by a node when the hold ends).
func (s *Service) Close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.stopNow()
	})
	s.wg.Wait()
	for _, tr := range s.transports {
		tr.CloseIdleConnections()
	}
	s.guard.discover.CloseIdleConnections()
}

// poke wakes the sender loop.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// expireLoop deletes subscriptions unused for 60 days, hourly.
func (s *Service) expireLoop() {
	t := time.NewTicker(s.cfg.ExpireEvery)
	defer t.Stop()
	for {
		s.expire()
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

func (s *Service) expire() {
	n, err := s.store.ExpirePushSubscriptions(context.Background(), s.cfg.Now().Add(-parley.PushSubscriptionMaxIdle))
	if err != nil {
		s.log.Warn("push: expire subscriptions", "err", err)
		return
	}
	if n > 0 {
		s.m.expired.Add(float64(n))
		s.log.Info("push: subscriptions expired", "count", n)
	}
}
