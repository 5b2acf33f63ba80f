package suggest

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter defaults.
const (
	DefaultPerMinute = 10
	DefaultMaxUsers  = 10000
)

// Limiter limits how often each user may ask for suggestions: a token bucket
// per user holding perMinute tokens, refilled at perMinute per minute. It
// tracks at most maxUsers users: users idle long enough for their bucket to
// be full again are forgotten (which changes nothing for them), and when the
// cap is reached anyway the least recently seen user is forgotten (who then
// starts again with a full bucket). Limits are per node.
//
// A Limiter is safe for concurrent use.
type Limiter struct {
	limit rate.Limit
	burst int
	idle  time.Duration // after this long unseen, a user's bucket is full
	max   int
	now   func() time.Time

	mu    sync.Mutex
	users map[int64]*list.Element // of *limiterEntry
	lru   *list.List              // front: most recently seen
}

type limiterEntry struct {
	user int64
	lim  *rate.Limiter
	seen time.Time
}

// NewLimiter returns a Limiter allowing perMinute requests per user and
// minute, tracking at most maxUsers users. Zero (or negative) values mean
// DefaultPerMinute and DefaultMaxUsers.
func NewLimiter(perMinute, maxUsers int) *Limiter {
	if perMinute <= 0 {
		perMinute = DefaultPerMinute
	}
	if maxUsers <= 0 {
		maxUsers = DefaultMaxUsers
	}
	return &Limiter{
		limit: rate.Limit(float64(perMinute) / 60),
		burst: perMinute,
		idle:  time.Minute,
		max:   maxUsers,
		now:   time.Now,
		users: make(map[int64]*list.Element),
		lru:   list.New(),
	}
}

// Allow reports whether user may ask for suggestions now, taking a token if
// so. When not, retryAfter is how long until the next request would be
// allowed; a Retry-After header carries it rounded up to whole seconds.
func (l *Limiter) Allow(user int64) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()

	l.evictIdle(now)
	var e *limiterEntry
	if el := l.users[user]; el != nil {
		e = el.Value.(*limiterEntry)
		l.lru.MoveToFront(el)
	} else {
		if l.lru.Len() >= l.max {
			l.remove(l.lru.Back())
		}
		e = &limiterEntry{user: user, lim: rate.NewLimiter(l.limit, l.burst)}
		l.users[user] = l.lru.PushFront(e)
	}
	e.seen = now

	r := e.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Len returns how many users the Limiter tracks.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// evictIdle forgets users, least recently seen first, whose buckets have
// refilled. Each call costs O(1) plus the number of users forgotten.
func (l *Limiter) evictIdle(now time.Time) {
	for el := l.lru.Back(); el != nil; el = l.lru.Back() {
		if now.Sub(el.Value.(*limiterEntry).seen) < l.idle {
			return
		}
		l.remove(el)
	}
}

func (l *Limiter) remove(el *list.Element) {
	delete(l.users, el.Value.(*limiterEntry).user)
	l.lru.Remove(el)
}
