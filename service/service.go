// Package service is Parley's application layer: the rules of accounts,
// conversations, messages and receipts, over a parley.Store, with every change
// announced on a parley.Bus. The REST handlers (http/) and the WebSocket
// connections (ws/) both call it, so a send over REST and a send over a
// WebSocket are the same code.
package service

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"parley"
)

// Defaults of the Config fields that are also serve's flags.
const (
	DefaultSessionTTL = 30 * 24 * time.Hour
	DefaultLargeGroup = 100
)

// Config holds the service's settings. Zero values are replaced by the
// defaults written on each field.
type Config struct {
	// SessionTTL is how long a session lives without use. Zero value means
	// DefaultSessionTTL (30 days).
	SessionTTL time.Duration
	// MaxGroupMembers is the member limit of a group. Zero value means
	// parley.DefaultMaxMembers (1000).
	MaxGroupMembers int
	// LargeGroup is the member count above which receipts go only to the
	// member's own devices and presence is not shared. Zero value means
	// DefaultLargeGroup (100).
	LargeGroup int
	// Hash sets the argon2id parameters of new password hashes.
	Hash HashParams
	// LoginWindow is the window of the login failure limits. Zero value means 15 min.
	LoginWindow time.Duration
	// LoginFailuresPerAccount limits failures per account and client address
	// in LoginWindow. Zero value means 10.
	LoginFailuresPerAccount int
	// LoginFailuresPerAddress limits failures per client address in
	// LoginWindow. Zero value means 100.
	LoginFailuresPerAddress int
	// HashConcurrency bounds the password hashes computed at once (each
	// holds Hash.Memory while it runs). Zero value means the number of CPUs.
	HashConcurrency int
	// HashWait is how long a sign-up or login waits for a hashing slot
	// before it is answered 503 unavailable. Zero value means HashWait.
	HashWait time.Duration
	// SignupsPerHour limits sign-ups per client address per hour. Zero
	// value means DefaultSignupsPerHour.
	SignupsPerHour int
	// Signup is the sign-up policy: parley.SignupOpen, SignupInvite or
	// SignupClosed. Zero value means SignupOpen.
	Signup string
	// InvitesByMembers lets every member create invitations, not only
	// admins.
	InvitesByMembers bool
}

func (c Config) withDefaults() Config {
	if c.SessionTTL == 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.MaxGroupMembers == 0 {
		c.MaxGroupMembers = parley.DefaultMaxMembers
	}
	if c.LargeGroup == 0 {
		c.LargeGroup = DefaultLargeGroup
	}
	if c.LoginWindow == 0 {
		c.LoginWindow = 15 * time.Minute
	}
	if c.LoginFailuresPerAccount == 0 {
		c.LoginFailuresPerAccount = 10
	}
	if c.LoginFailuresPerAddress == 0 {
		c.LoginFailuresPerAddress = 100
	}
	if c.HashConcurrency <= 0 {
		c.HashConcurrency = runtime.NumCPU()
	}
	if c.HashWait == 0 {
		c.HashWait = HashWait
	}
	if c.SignupsPerHour == 0 {
		c.SignupsPerHour = DefaultSignupsPerHour
	}
	if c.Signup == "" {
		c.Signup = parley.SignupOpen
	}
	return c
}

// Service implements Parley's use cases.
type Service struct {
	store parley.Store
	bus   parley.Bus
	cfg   Config
	log   *slog.Logger
	// Now returns the current time; tests may replace it.
	Now func() time.Time

	dummyHash string        // hashed at start so unknown users cost a hash too
	hashes    chan struct{} // a slot per hash that may run (see acquireHash)
	writes    struct {      // Ready's last write check
		mu  sync.Mutex
		at  time.Time
		err error
	}
	files *Files // the attachments side; nil until NewFiles
	kinds kindCache
	sent  atomic.Int64 // messages stored by SendMessage (see MessagesSent)
}

// MessagesSent is how many messages people have sent through this service
// since it started (resends of a stored one not counted).
func (s *Service) MessagesSent() int64 { return s.sent.Load() }

// New returns a Service.
func New(store parley.Store, bus parley.Bus, cfg Config, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	cfg = cfg.withDefaults()
	if err := parley.ValidateSignupPolicy(cfg.Signup); err != nil {
		return nil, err
	}
	dummy, err := hashPassword("parley-dummy-password", cfg.Hash)
	if err != nil {
		return nil, err
	}
	return &Service{store: store, bus: bus, cfg: cfg, log: log, Now: now, dummyHash: dummy,
		hashes: make(chan struct{}, cfg.HashConcurrency)}, nil
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Ready reports whether the store answers and can write. The write check
// (parley.HealthStore.CheckWrite) runs at most once per WriteCheckEvery;
// in between, its last outcome stands, so that however often readiness is
// asked, the database sees at most one probe write per interval.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		return err
	}
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	if now := time.Now(); s.writes.at.IsZero() || now.Sub(s.writes.at) >= WriteCheckEvery {
		err := s.store.CheckWrite(ctx)
		if err != nil && ctx.Err() != nil {
			return err // the caller's limit ran out: nothing learned about the store
		}
		s.writes.err, s.writes.at = err, now
	}
	return s.writes.err
}

// WriteCheckEvery is how often Ready checks that the store can write.
const WriteCheckEvery = time.Second

// member returns userID's membership of a conversation; ErrNotFound when the
// conversation does not exist or userID is not a member.
func (s *Service) member(ctx context.Context, conversationID, userID int64) (parley.Member, error) {
	if conversationID <= 0 {
		return parley.Member{}, parley.ErrNotFound
	}
	return s.store.Member(ctx, conversationID, userID)
}

// publish sends an event, logging (not returning) a failure: the change is
// already committed, and clients converge through sync. It publishes even
// when ctx has ended (a client that went away, a deadline met just after
// the commit): the change happened, and its members must hear of it.
func (s *Service) publish(ctx context.Context, topic string, e parley.Event) {
	if err := s.bus.Publish(context.WithoutCancel(ctx), topic, parley.MarshalEvent(e)); err != nil {
		s.log.Warn("bus publish failed", "topic", topic, "err", err)
	}
}
