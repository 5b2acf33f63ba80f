package service

import (
	"context"
	"math/rand/v2"
	"time"
)

const (
	// DefaultPruneInterval is how often a node prunes (--prune-interval).
	DefaultPruneInterval = 10 * time.Minute
	// AttemptsKept is how long attempts (failed logins, sign-ups, failed
	// joins) are kept: longer than the window of every limit that counts
	// them.
	AttemptsKept = 24 * time.Hour
	// pruneBatch is the most rows one delete takes.
	pruneBatch = 1000
)

// Prune deletes what counts for nothing any more: attempts older than
// AttemptsKept (or the login window, if longer), sessions that have
// expired and the usernames of deleted accounts whose retirement ended, a
// batch at a time. Every node may run it: the stores delete each row once.
func (s *Service) Prune(ctx context.Context) (attempts, sessions, retired int, err error) {
	now := s.Now()
	attempts, err = pruneAll(ctx, func(ctx context.Context) (int, error) {
		return s.store.PruneAttempts(ctx, now.Add(-max(AttemptsKept, s.cfg.LoginWindow)), pruneBatch)
	})
	if err != nil {
		return attempts, 0, 0, err
	}
	sessions, err = pruneAll(ctx, func(ctx context.Context) (int, error) {
		return s.store.PruneSessions(ctx, now, pruneBatch)
	})
	if err != nil {
		return attempts, sessions, 0, err
	}
	retired, err = pruneAll(ctx, func(ctx context.Context) (int, error) {
		return s.store.PruneRetiredUsernames(ctx, now, pruneBatch)
	})
	return attempts, sessions, retired, err
}

func pruneAll(ctx context.Context, batch func(ctx context.Context) (int, error)) (int, error) {
	total := 0
	for {
		n, err := batch(ctx)
		total += n
		if err != nil || n < pruneBatch || ctx.Err() != nil {
			return total, err
		}
	}
}

// Housekeep prunes every interval until ctx ends. The first run comes
// after a random part of the interval, so that nodes started together do
// not all prune at the same moment.
func (s *Service) Housekeep(ctx context.Context, every time.Duration) {
	t := time.NewTimer(rand.N(every) + 1)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a, n, r, err := s.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("prune", "err", err, "attempts", a, "sessions", n, "retired_usernames", r)
		case a+n+r > 0:
			s.log.Info("pruned", "attempts", a, "sessions", n, "retired_usernames", r)
		}
		t.Reset(every)
	}
}
