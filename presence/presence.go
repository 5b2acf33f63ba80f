// Package presence tracks which users are online across the nodes of a
// deployment.
//
// Each node runs one Tracker. The node's connection code calls Connect and
// Disconnect as connections open and close; the Tracker counts them per
// user, tells the other nodes over the bus (parley.PresenceTopic) when a
// user's count on this node goes 0→1 or 1→0, and heartbeats its whole
// online set. From what it hears it keeps a deployment-wide view: a user is
// online while any node has a connection of theirs open, and goes offline
// only a grace period after the last one closed, so that a reload or a
// reconnect to another node does not flap. A node that falls silent (a
// crash, a partition) is forgotten after a timeout, and its users go
// offline after the grace period unless they turn up elsewhere.
//
// The bus may lose messages (core NATS is at most once); heartbeats carry
// the full set, so every node converges within a heartbeat.
package presence

import (
	"cmp"
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"parley"
)

// Defaults of Config (and of serve's --presence-* flags).
const (
	DefaultOfflineGrace = 5 * time.Second
	DefaultHeartbeat    = 10 * time.Second
	// DefaultNodeTimeout is three heartbeats.
	DefaultNodeTimeout = 3 * DefaultHeartbeat
)

// Config tunes a Tracker. The zero value is ready to use.
type Config struct {
	// OfflineGrace is how long after a user's last connection closed,
	// everywhere, they are reported offline. Zero value means
	// DefaultOfflineGrace (5 s); a negative value reports them offline at
	// once.
	OfflineGrace time.Duration
	// Heartbeat is how often the node publishes its full online set. Zero
	// value means DefaultHeartbeat (10 s).
	Heartbeat time.Duration
	// NodeTimeout is how long a node may stay silent before its users are
	// considered gone. It should span several heartbeats. Zero value means
	// three heartbeats (30 s by default).
	NodeTimeout time.Duration
	// Logger receives publish failures, malformed messages and node
	// timeouts. Nil means slog.Default().
	Logger *slog.Logger
}

// maxOutbox caps the deltas waiting to be published. Past it they are
// dropped in favour of one full set, which says everything they said.
const maxOutbox = 4096

// Tracker is one node's part of presence. Its methods are safe for
// concurrent use.
//
// Concurrency. mu guards every field below it. It is never held while
// publishing or calling onChange, so it is never held across a call into
// another Tracker: with the in-process bus, a Publish runs the other
// Trackers' receive on the publishing goroutine, and receive takes only the
// receiving Tracker's mu.
//
// Three goroutines, all ended by Close:
//   - sendLoop is the only one that publishes (until Close, which publishes
//     the leave after it has ended). It takes what to send from outbox or
//     a snapshot of local under mu, so the node's messages go out in the
//     order of the changes they describe, and the bus keeps one
//     publisher's order.
//   - watchLoop wakes at the earliest deadline (a grace period running out,
//     a node timing out) and applies it.
//   - notifyLoop is the only caller of onChange. Transitions are queued in
//     changes under mu at the moment users changes, so onChange sees them
//     in the order Online does.
//
// Invariants under mu: users holds exactly the users reported online
// (including those in their grace period); users[id].nodes is the number of
// nodes where id has a connection open (this one if local[id] > 0, plus each
// peer whose set holds id); grace holds the ids whose nodes is 0.
type Tracker struct {
	bus      parley.Bus
	nodeID   string
	cfg      Config
	onChange func(userID int64, online bool, lastSeen time.Time)
	log      *slog.Logger
	unsub    func()

	ctx        context.Context // canceled by Close
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	wakeSend   chan struct{} // capacity 1 each: "look again"
	wakeWatch  chan struct{}
	wakeNotify chan struct{}

	mu       sync.Mutex
	closed   bool
	local    map[int64]int // open connections on this node, > 0
	peers    map[string]*peer
	users    map[int64]*user
	grace    map[int64]struct{}
	outbox   []delta
	sendFull bool // send the full set next (a heartbeat is due, or deltas were dropped)
	hello    bool // ... as a kindHello: this node has just started
	changes  []change
}

// peer is what this node knows of another node.
type peer struct {
	users map[int64]struct{} // its online set
	seen  time.Time          // when this node last heard from it
}

// user is a user reported online.
type user struct {
	nodes    int       // nodes where the user has a connection open
	lastSeen time.Time // when nodes fell to 0
	deadline time.Time // when nodes fell to 0, plus the grace period
}

// change is an onChange call waiting to be made.
type change struct {
	userID int64
	online bool
	at     time.Time
}

// New starts the Tracker of node nodeID, which must be unique in the
// deployment, on bus. onChange, if not nil, is called once for each
// transition of a user between online and offline, on one goroutine, in
// order: with the time of the transition when the user comes online, and
// the time their last connection closed when they go offline. It must not
// call Close.
func New(bus parley.Bus, nodeID string, cfg Config, onChange func(userID int64, online bool, lastSeen time.Time)) *Tracker {
	if cfg.OfflineGrace == 0 {
		cfg.OfflineGrace = DefaultOfflineGrace
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.NodeTimeout <= 0 {
		cfg.NodeTimeout = 3 * cfg.Heartbeat
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	t := &Tracker{
		bus:        bus,
		nodeID:     nodeID,
		cfg:        cfg,
		onChange:   onChange,
		log:        log.With("component", "presence", "node", nodeID),
		wakeSend:   make(chan struct{}, 1),
		wakeWatch:  make(chan struct{}, 1),
		wakeNotify: make(chan struct{}, 1),
		local:      make(map[int64]int),
		peers:      make(map[string]*peer),
		users:      make(map[int64]*user),
		grace:      make(map[int64]struct{}),
		sendFull:   true,
		hello:      true,
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	unsub, err := bus.Subscribe(parley.PresenceTopic, t.receive)
	if err != nil {
		// Presence degrades to this node's own users; nothing else breaks.
		t.log.Error("presence: subscribe", "err", err)
		unsub = func() {}
	}
	t.unsub = unsub
	t.wg.Add(3)
	go t.sendLoop()
	go t.watchLoop()
	go t.notifyLoop()
	wake(t.wakeSend) // the hello
	return t
}

func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Connect records a connection of userID opening on this node.
func (t *Tracker) Connect(userID int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.local[userID]++
	if t.local[userID] == 1 {
		t.addSource(userID, time.Now())
		t.queueDelta(delta{userID: userID, online: true})
	}
}

// Disconnect records a connection of userID closing on this node. Each
// call must match an earlier Connect; extra calls are ignored.
func (t *Tracker) Disconnect(userID int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.local[userID] == 0 {
		return
	}
	t.local[userID]--
	if t.local[userID] == 0 {
		delete(t.local, userID)
		now := time.Now()
		t.removeSource(userID, now, now)
		t.queueDelta(delta{userID: userID, online: false})
	}
}

// Online reports whether userID is online: connected on some node, or
// within the grace period after their last connection closed.
func (t *Tracker) Online(userID int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.users[userID]
	return ok
}

// OnlineCount returns how many users are Online.
func (t *Tracker) OnlineCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.users)
}

// OnlineUsers reports Online for each of ids, in one map.
func (t *Tracker) OnlineUsers(ids []int64) map[int64]bool {
	online := make(map[int64]bool, len(ids))
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range ids {
		_, online[id] = t.users[id]
	}
	return online
}

// Close stops the Tracker: it waits for its goroutines (and so for an
// onChange call in progress) to end, then tells the other nodes that this
// one leaves, so that its users go offline there after the grace period.
// Transitions not yet passed to onChange are dropped. Connect and Disconnect
// do nothing after Close. Close is idempotent.
func (t *Tracker) Close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	t.mu.Unlock()

	t.unsub()
	t.cancel()
	t.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.bus.Publish(ctx, parley.PresenceTopic, encodeLeave(t.nodeID)); err != nil {
		t.log.Warn("presence: publish leave", "err", err)
	}
}

// addSource notes that userID has a connection open on one more node. It
// reports the user online, or cancels their grace period. Call with mu held.
func (t *Tracker) addSource(userID int64, now time.Time) {
	u := t.users[userID]
	if u == nil {
		t.users[userID] = &user{nodes: 1}
		t.emit(userID, true, now)
		return
	}
	u.nodes++
	if u.nodes == 1 { // back within the grace period: no transition
		delete(t.grace, userID)
		u.lastSeen, u.deadline = time.Time{}, time.Time{}
	}
}

// removeSource notes that userID has a connection open on one node fewer;
// at none, their grace period starts now. lastSeen is when they were last
// known connected. Call with mu held.
func (t *Tracker) removeSource(userID int64, lastSeen, now time.Time) {
	u := t.users[userID]
	if u == nil || u.nodes == 0 {
		t.log.Error("presence: bug: removing a source the user does not have", "user", userID)
		return
	}
	u.nodes--
	if u.nodes > 0 {
		return
	}
	if t.cfg.OfflineGrace < 0 {
		delete(t.users, userID)
		t.emit(userID, false, lastSeen)
		return
	}
	u.lastSeen, u.deadline = lastSeen, now.Add(t.cfg.OfflineGrace)
	t.grace[userID] = struct{}{}
	wake(t.wakeWatch)
}

// emit queues an onChange call. Call with mu held.
func (t *Tracker) emit(userID int64, online bool, at time.Time) {
	if t.onChange == nil {
		return
	}
	t.changes = append(t.changes, change{userID: userID, online: online, at: at})
	wake(t.wakeNotify)
}

// queueDelta queues a change of this node's set for publishing. Call with mu
// held.
func (t *Tracker) queueDelta(d delta) {
	switch {
	case t.sendFull:
		// The full set, taken when it is sent, will say it.
	case len(t.outbox) >= maxOutbox:
		t.outbox, t.sendFull = t.outbox[:0], true
	default:
		t.outbox = append(t.outbox, d)
	}
	wake(t.wakeSend)
}

// receive handles a message from the bus.
func (t *Tracker) receive(data []byte) {
	m, ok, err := decode(data)
	if err != nil {
		t.log.Warn("presence: dropping malformed message", "err", err, "len", len(data))
		return
	}
	if !ok || m.node == t.nodeID {
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if m.kind == kindLeave {
		t.dropPeer(m.node, now, now)
		return
	}
	p := t.peers[m.node]
	if p == nil {
		p = &peer{users: make(map[int64]struct{})}
		t.peers[m.node] = p
		wake(t.wakeWatch) // a new timeout to watch
	}
	p.seen = now

	switch m.kind {
	case kindDelta:
		for _, d := range m.deltas {
			_, had := p.users[d.userID]
			switch {
			case d.online && !had:
				p.users[d.userID] = struct{}{}
				t.addSource(d.userID, now)
			case !d.online && had:
				delete(p.users, d.userID)
				t.removeSource(d.userID, now, now)
			}
		}
	case kindFull, kindHello:
		for id := range p.users {
			if _, still := slices.BinarySearch(m.users, id); !still {
				delete(p.users, id)
				t.removeSource(id, now, now)
			}
		}
		for _, id := range m.users {
			if _, had := p.users[id]; !had {
				p.users[id] = struct{}{}
				t.addSource(id, now)
			}
		}
		if m.kind == kindHello { // a node started: let it learn our set now
			t.sendFull = true
			wake(t.wakeSend)
		}
	}
}

// dropPeer forgets node: its users lose a source. Call with mu held.
func (t *Tracker) dropPeer(node string, lastSeen, now time.Time) {
	p := t.peers[node]
	if p == nil {
		return
	}
	delete(t.peers, node)
	for id := range p.users {
		t.removeSource(id, lastSeen, now)
	}
}

// sendLoop publishes this node's deltas as they come and its full set at
// every heartbeat.
func (t *Tracker) sendLoop() {
	defer t.wg.Done()
	tick := time.NewTicker(t.cfg.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-tick.C:
			t.mu.Lock()
			t.sendFull = true
			t.mu.Unlock()
		case <-t.wakeSend:
		}
		if msg := t.takeOutbox(); msg != nil {
			if err := t.bus.Publish(t.ctx, parley.PresenceTopic, msg); err != nil && t.ctx.Err() == nil {
				t.log.Warn("presence: publish", "err", err)
				// What was lost, the next heartbeat says again.
			}
		}
	}
}

// takeOutbox returns the next message to publish, or nil.
func (t *Tracker) takeOutbox() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.sendFull:
		kind := byte(kindFull)
		if t.hello {
			kind = kindHello
		}
		t.sendFull, t.hello, t.outbox = false, false, t.outbox[:0]
		return encodeSet(kind, t.nodeID, slices.Collect(maps.Keys(t.local)))
	case len(t.outbox) > 0:
		msg := encodeDeltas(t.nodeID, t.outbox)
		t.outbox = t.outbox[:0]
		return msg
	}
	return nil
}

// watchLoop applies node timeouts and grace periods as they run out.
func (t *Tracker) watchLoop() {
	defer t.wg.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-timer.C:
		case <-t.wakeWatch:
		}
		now := time.Now()
		t.mu.Lock()
		next := t.expire(now)
		t.mu.Unlock()
		if next.IsZero() {
			timer.Stop()
		} else {
			timer.Reset(next.Sub(now))
		}
	}
}

// expire applies what is due at now and returns the next deadline (zero if
// none). Call with mu held.
func (t *Tracker) expire(now time.Time) time.Time {
	var next time.Time
	earliest := func(d time.Time) {
		if next.IsZero() || d.Before(next) {
			next = d
		}
	}
	// Nodes first: their users' grace periods start now.
	for node, p := range t.peers {
		if timeout := p.seen.Add(t.cfg.NodeTimeout); timeout.After(now) {
			earliest(timeout)
			continue
		}
		t.log.Warn("presence: node silent, forgetting its users", "peer", node,
			"silent", now.Sub(p.seen).Round(time.Millisecond), "users", len(p.users))
		t.dropPeer(node, p.seen, now)
	}
	var due []int64
	for id := range t.grace {
		if d := t.users[id].deadline; d.After(now) {
			earliest(d)
		} else {
			due = append(due, id)
		}
	}
	// In the order their grace periods ran out.
	slices.SortFunc(due, func(a, b int64) int {
		return cmp.Or(t.users[a].deadline.Compare(t.users[b].deadline), cmp.Compare(a, b))
	})
	for _, id := range due {
		u := t.users[id]
		delete(t.grace, id)
		delete(t.users, id)
		t.emit(id, false, u.lastSeen)
	}
	return next
}

// notifyLoop makes the onChange calls, in the order they were queued.
func (t *Tracker) notifyLoop() {
	defer t.wg.Done()
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-t.wakeNotify:
		}
		t.mu.Lock()
		batch := t.changes
		t.changes = nil
		t.mu.Unlock()
		for _, c := range batch {
			if t.ctx.Err() != nil {
				return
			}
			t.onChange(c.userID, c.online, c.at)
		}
	}
}
