package hub

import (
	"log/slog"
	"sync"
	"time"

	"parley"
)

// Conn is one live client connection as the registry sees it.
type Conn interface {
	ID() string
	UserID() int64
	SessionID() int64
	// Deliver queues d for writing. It must not block: a connection that
	// cannot keep up closes itself.
	Deliver(d *Delivery)
	// CloseWith closes the connection with a WebSocket close code. It must
	// not block.
	CloseWith(code int, reason string)
}

// Delivery is one event as every local connection receives it: the same
// bytes for all of them, encoded once by the publisher.
type Delivery struct {
	ConversationID int64
	Seq            int64 // set for new messages
	Frame          []byte
	// At is when the event reached this node, in Mono nanoseconds (0: when
	// delivered).
	At int64
	// Shared is how many connections of this node are handed Frame (0 or
	// 1: one), so that queues count its memory once between them.
	Shared int
}

// epoch is Mono's zero.
var epoch = time.Now()

// Mono is a monotonic clock in nanoseconds, never 0: cheaper to keep and
// compare than time.Time (no pointer for the collector to scan, no
// location), for the many queue entries of fan-out.
func Mono() int64 { return int64(time.Since(epoch)) + 1 }

// CloseSessionEnded is the close code for a logged-out or revoked session.
const CloseSessionEnded = 4001

// Registry is a node's set of live connections. It subscribes to the bus
// topics of the users connected to this node and of their conversations, and
// hands each event to the connections concerned.
//
// Lock order: Registry.mu, then whatever Conn.Deliver takes. Conns never call
// the registry while holding their own lock. Bus subscriptions are made and
// dropped under Registry.mu; bus handlers take Registry.mu for reading, so
// a Bus must not call handlers while holding a lock Subscribe needs.
type Registry struct {
	bus parley.Bus
	log *slog.Logger

	mu       sync.RWMutex
	maxConns int // per user; 0: no limit (see SetMaxConnsPerUser)
	users    map[int64]*userEntry
	convs    map[int64]*convEntry
}

type userEntry struct {
	conns []Conn
	convs map[int64]struct{}
	unsub func()
}

// convEntry is a conversation with members connected here. conns lists
// the connections of those members, kept in step with users and the users'
// conns, so that fan-out walks one slice instead of two maps.
type convEntry struct {
	users map[int64]struct{}
	conns []Conn
	unsub func()

	mu sync.Mutex // guards tr (see track.go)
	tr tracking
}

func (ce *convEntry) add(cs ...Conn) { ce.conns = append(ce.conns, cs...) }

func (ce *convEntry) remove(c Conn) {
	for i, x := range ce.conns {
		if x == c {
			last := len(ce.conns) - 1
			ce.conns[i] = ce.conns[last]
			ce.conns[last] = nil
			ce.conns = ce.conns[:last]
			return
		}
	}
}

// NewRegistry returns an empty registry on bus.
func NewRegistry(bus parley.Bus, log *slog.Logger) *Registry {
	if log == nil {
		log = slog.Default()
	}
	return &Registry{bus: bus, log: log, users: make(map[int64]*userEntry), convs: make(map[int64]*convEntry)}
}

// ErrTooManyConns is Register's answer for a connection past the per-user
// limit.
var ErrTooManyConns = &parley.Error{Code: parley.ERATELIMITED, Message: "Too many connections for this user.",
	RetryAfter: 5 * time.Second}

// SetMaxConnsPerUser sets how many connections a user may have on this
// node (0: no limit). Register enforces it.
func (r *Registry) SetMaxConnsPerUser(n int) {
	r.mu.Lock()
	r.maxConns = n
	r.mu.Unlock()
}

// Full reports whether userID has as many connections on this node as
// allowed: Register would refuse one more. Callers may ask first to refuse
// early (before a WebSocket upgrade); Register decides.
func (r *Registry) Full(userID int64) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.fullLocked(userID)
}

func (r *Registry) fullLocked(userID int64) bool {
	u := r.users[userID]
	return r.maxConns > 0 && u != nil && len(u.conns) >= r.maxConns
}

// Register adds a connection whose user is a member of conversationIDs and
// returns how many connections the user now has on this node. A connection
// past the per-user limit is refused with ErrTooManyConns: the check and
// the addition happen under one lock, so concurrent registrations never
// exceed the limit.
func (r *Registry) Register(c Conn, conversationIDs []int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	uid := c.UserID()
	if r.fullLocked(uid) {
		return len(r.users[uid].conns), ErrTooManyConns
	}
	u := r.users[uid]
	if u == nil {
		u = &userEntry{convs: make(map[int64]struct{})}
		unsub, err := r.bus.Subscribe(parley.UserTopic(uid), r.userHandler(uid))
		if err != nil {
			return 0, err
		}
		u.unsub = unsub
		r.users[uid] = u
	}
	u.conns = append(u.conns, c)
	for id := range u.convs {
		r.convs[id].add(c)
	}
	for _, id := range conversationIDs {
		if err := r.joinLocked(u, uid, id, Mark{}); err != nil {
			return len(u.conns), err
		}
	}
	return len(u.conns), nil
}

// Unregister removes a connection; it returns how many the user still has.
func (r *Registry) Unregister(c Conn) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	uid := c.UserID()
	u := r.users[uid]
	if u == nil {
		return 0
	}
	for i, x := range u.conns {
		if x == c {
			u.conns = append(u.conns[:i:i], u.conns[i+1:]...)
			for id := range u.convs {
				r.convs[id].remove(c)
			}
			break
		}
	}
	if len(u.conns) > 0 {
		return len(u.conns)
	}
	for id := range u.convs {
		r.leaveLocked(u, uid, id)
	}
	u.unsub()
	delete(r.users, uid)
	return 0
}

// Count returns how many connections a user has on this node.
func (r *Registry) Count(userID int64) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if u := r.users[userID]; u != nil {
		return len(u.conns)
	}
	return 0
}

// Local reports which of ids have a connection on this node.
func (r *Registry) Local(ids []int64) []int64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []int64
	for _, id := range ids {
		if r.users[id] != nil {
			out = append(out, id)
		}
	}
	return out
}

// DeliverToUser hands d to every local connection of userID.
func (r *Registry) DeliverToUser(userID int64, d *Delivery) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if u := r.users[userID]; u != nil {
		for _, c := range u.conns {
			c.Deliver(d)
		}
	}
}

// Conns returns the number of live connections on this node.
func (r *Registry) Conns() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	for _, u := range r.users {
		n += len(u.conns)
	}
	return n
}

// CloseAll closes every connection with code (e.g. 1001 on shutdown).
func (r *Registry) CloseAll(code int, reason string) {
	for _, c := range r.All() {
		c.CloseWith(code, reason)
	}
}

// All returns every live connection on this node.
func (r *Registry) All() []Conn {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var all []Conn
	for _, u := range r.users {
		all = append(all, u.conns...)
	}
	return all
}

// joinLocked subscribes u to conversation id. A conversation new to the
// node gets a watermark from base (the first event to deliver, if known).
func (r *Registry) joinLocked(u *userEntry, uid, id int64, base Mark) error {
	if _, ok := u.convs[id]; ok {
		return nil
	}
	ce := r.convs[id]
	if ce == nil {
		ce = &convEntry{users: make(map[int64]struct{})}
		unsub, err := r.bus.Subscribe(parley.ConversationTopic(id), r.convHandler(id))
		if err != nil {
			return err
		}
		ce.unsub = unsub
		if base.Mod > 0 {
			ce.tr.raise(base.Mod-1, max(base.Seq-1, 0))
		}
		r.convs[id] = ce
	}
	ce.users[uid] = struct{}{}
	ce.add(u.conns...)
	u.convs[id] = struct{}{}
	return nil
}

func (r *Registry) leaveLocked(u *userEntry, uid, id int64) {
	delete(u.convs, id)
	ce := r.convs[id]
	if ce == nil {
		return
	}
	delete(ce.users, uid)
	for _, c := range u.conns {
		ce.remove(c)
	}
	if len(ce.users) == 0 {
		ce.unsub()
		delete(r.convs, id)
	}
}

func (r *Registry) convHandler(id int64) func([]byte) {
	return func(data []byte) {
		e, err := parley.UnmarshalEvent(data)
		if err != nil || e.Type != parley.EventFrame {
			return
		}
		d := &Delivery{ConversationID: id, Seq: e.Seq, Frame: e.Frame, At: Mono()}
		r.mu.RLock()
		defer r.mu.RUnlock()
		ce := r.convs[id]
		if ce == nil {
			return
		}
		if e.Mod > 0 { // a message event: at most once (see track.go)
			ce.mu.Lock()
			defer ce.mu.Unlock()
			if ce.tr.delivered(e.Mod) {
				return
			}
			ce.tr.note(e.Mod, e.Seq)
		}
		d.Shared = len(ce.conns)
		for _, c := range ce.conns {
			if e.ExceptConn == "" || c.ID() != e.ExceptConn {
				c.Deliver(d)
			}
		}
	}
}

func (r *Registry) userHandler(uid int64) func([]byte) {
	return func(data []byte) {
		e, err := parley.UnmarshalEvent(data)
		if err != nil {
			r.log.Warn("bad bus event", "err", err)
			return
		}
		d := &Delivery{ConversationID: e.ConversationID, Seq: e.Seq, Frame: e.Frame, At: Mono()}
		switch e.Type {
		case parley.EventJoin:
			d.Seq = 0 // the frame is about the conversation, not a message
			r.mu.Lock()
			if u := r.users[uid]; u != nil {
				if err := r.joinLocked(u, uid, e.ConversationID, Mark{Seq: e.Seq, Mod: e.Mod}); err != nil {
					r.log.Warn("subscribe conversation", "err", err)
				}
			}
			r.mu.Unlock()
			if len(e.Frame) > 0 {
				r.DeliverToUser(uid, d)
			}
		case parley.EventLeave:
			if len(e.Frame) > 0 {
				r.DeliverToUser(uid, d)
			}
			r.mu.Lock()
			if u := r.users[uid]; u != nil {
				r.leaveLocked(u, uid, e.ConversationID)
			}
			r.mu.Unlock()
		case parley.EventRevoke:
			r.mu.RLock()
			var victims []Conn
			if u := r.users[uid]; u != nil {
				for _, c := range u.conns {
					if (e.All && c.SessionID() != e.SessionID) || (!e.All && c.SessionID() == e.SessionID) {
						victims = append(victims, c)
					}
				}
			}
			r.mu.RUnlock()
			for _, c := range victims {
				c.CloseWith(CloseSessionEnded, "session ended")
			}
		case parley.EventFrame:
			r.mu.RLock()
			if u := r.users[uid]; u != nil {
				d.Shared = len(u.conns)
				for _, c := range u.conns {
					if (e.ConnID == "" || c.ID() == e.ConnID) && (e.ExceptConn == "" || c.ID() != e.ExceptConn) {
						c.Deliver(d)
					}
				}
			}
			r.mu.RUnlock()
		}
	}
}
