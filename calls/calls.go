// Package calls is Parley's call signaling: 1:1 audio and video calls between
// the two members of a direct conversation. Media flows browser to browser
// (WebRTC); Parley carries the offer, the answer and the ICE candidates over
// the WebSocket, decides every outcome (answered, declined, cancelled,
// missed, busy, glare, hung up, disconnected), leaves one system message per
// call in the conversation's history, and hands out STUN and TURN servers
// with short-lived TURN credentials (GET /api/v1/calls/ice-servers).
//
// # Design
//
// A call is coordinated by the node its caller's connection is on: that node
// holds the call's state and ring timer, and only it changes the call, so
// every decision (a second accept is refused, the system message is written
// once) is made in one place without a database. The call id names the
// coordinator ("<instance>.<random>"), so any node can reach it:
//
//   - Events for people go through the bus on their user topics
//     (parley.UserTopic, parley.EventFrame), targeted with ConnID or
//     ExceptConn, so they reach devices on any node.
//   - Operations on an existing call (accept, decline, cancel, hang up) are
//     sent by the node that received them to the coordinator's topic
//     (calls.node.<instance>), which answers on the asking node's topic.
//     Every node does this, the coordinator too, so there is one path.
//   - Coordinators announce each state change of their calls on the topic
//     "calls" and repeat the announcement of live calls every
//     AnnounceInterval. Every node keeps an index of the live calls it has
//     heard of, by user: it answers "busy", relays ICE candidates between
//     the two devices in a call, and tells the coordinator when one of those
//     devices disconnects from this node. An entry not repeated within three
//     intervals is dropped, so a coordinator that died leaves nobody busy
//     for long.
//
// Two calls that involve the same person are a conflict, which happens only
// when invitations race (on one node the index refuses them at once). Every
// coordinator decides conflicts by the same rule, beats, using only what the
// announcements carry, and ends only its own calls, so no call is ended
// twice: an answered call beats a ringing one; two calls between the same
// two people in opposite directions, both ringing (glare), are won by the
// call placed by the person with the smaller user id; otherwise the older
// call (coordinator time, then call id) wins.
package calls

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"parley"
	"parley/ws"
)

// Defaults of the Config fields that are also serve's flags.
const (
	DefaultRingTimeout = 45 * time.Second
	DefaultTURNTTL     = time.Hour
)

// Config holds the call settings. Zero values mean the defaults written on
// each field.
type Config struct {
	// RingTimeout is how long a call rings before it ends as missed. Zero
	// value means DefaultRingTimeout (45 s).
	RingTimeout time.Duration
	// STUNURLs are STUN server URLs handed to clients (stun:host:3478).
	// Zero value: none (host candidates only, enough on one network).
	STUNURLs []string
	// TURNURLs are TURN server URLs (turn:host:3478?transport=udp,
	// turns:host:5349). They need TURNSecret.
	TURNURLs []string
	// TURNSecret is the secret shared with the TURN server (coturn
	// static-auth-secret). Clients get credentials derived from it, never
	// the secret itself.
	TURNSecret string
	// TURNTTL is how long TURN credentials stay valid. Zero value means
	// DefaultTURNTTL (1 h).
	TURNTTL time.Duration
	// RequestTimeout bounds how long an operation waits for the node that
	// coordinates its call. Zero value means 5 s.
	RequestTimeout time.Duration
	// AnnounceInterval is how often coordinators repeat the state of their
	// live calls; other nodes forget a call not repeated in three
	// intervals. Zero value means 15 s.
	AnnounceInterval time.Duration
	// Now returns the time calls are stamped with (their start and
	// duration). Zero value means time.Now; tests may replace it.
	Now func() time.Time
	// OnRing, if set, is called (on a goroutine of its own) when a call
	// starts ringing: the node pushes to a callee with no live connection.
	OnRing func(Ring)
}

// Ring is a call that starts ringing.
type Ring struct {
	CallID         string
	ConversationID int64
	Media          string
	Caller         parley.UserRef
	Callee         int64
	// Timeout is how long it rings.
	Timeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.RingTimeout == 0 {
		c.RingTimeout = DefaultRingTimeout
	}
	if c.TURNTTL == 0 {
		c.TURNTTL = DefaultTURNTTL
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.AnnounceInterval == 0 {
		c.AnnounceInterval = 15 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate checks the settings: URL schemes, a secret for TURN, sensible
// durations.
func (c Config) Validate() error {
	for _, u := range c.STUNURLs {
		if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "stuns:") {
			return fmt.Errorf("STUN URL %q must use the scheme stun or stuns", u)
		}
	}
	for _, u := range c.TURNURLs {
		if !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
			return fmt.Errorf("TURN URL %q must use the scheme turn or turns", u)
		}
	}
	if len(c.TURNURLs) > 0 && c.TURNSecret == "" {
		return errors.New("TURN URLs need a TURN secret (--turn-secret, the TURN server's static-auth-secret)")
	}
	if c.RingTimeout < 0 || c.RingTimeout > 10*time.Minute {
		return errors.New("the ring timeout must be at most 10 minutes")
	}
	if c.TURNTTL < 0 || (c.TURNTTL > 0 && c.TURNTTL < time.Minute) || c.TURNTTL > 7*24*time.Hour {
		return errors.New("the TURN credential lifetime must be 1 minute to 7 days")
	}
	return nil
}

// Conversations is what call signaling needs of the application layer
// (*service.Service): who may call whom, and the call's note in the
// history.
type Conversations interface {
	// CallPeer returns the person userID may call from a conversation (the
	// other member of a direct one, accepting messages).
	CallPeer(ctx context.Context, userID, conversationID int64) (parley.User, error)
	// ReserveCall counts an invite from caller to callee against the call
	// limits; rate_limited (with a time to retry) past them.
	ReserveCall(ctx context.Context, caller, callee int64) error
	// AppendSystem stores and announces a system message.
	AppendSystem(ctx context.Context, conversationID int64, info parley.SystemInfo) (parley.Message, error)
}

// Service runs call signaling on one node.
//
// Lock order: call.mu, then Service.mu. Service.mu is never held while
// publishing or waiting. Bus handlers take only Service.mu, briefly, and
// hand anything that publishes or writes to a goroutine (spawn), so they
// never block the bus.
type Service struct {
	svc  Conversations
	bus  parley.Bus
	cfg  Config
	log  *slog.Logger
	inst string // this node's instance id: call ids start with it

	mu      sync.Mutex
	own     map[string]*call            // live calls this node coordinates
	index   map[string]*entry           // calls heard of (own too), ended ones kept as tombstones until swept
	byUser  map[int64]map[string]*entry // live entries by caller and callee
	pending map[string]chan message     // requests waiting for the coordinator's answer, by request id
	closed  bool

	wg     sync.WaitGroup // every goroutine the Service starts
	stop   chan struct{}
	unsubs []func()
}

// New returns a Service over svc and bus. It subscribes to the
// "calls" topic and its own node topic and starts the announcer; Close
// stops them.
func New(svc Conversations, bus parley.Bus, cfg Config, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{svc: svc, bus: bus, cfg: cfg.withDefaults(), log: log, inst: randomHex(8),
		own: make(map[string]*call), index: make(map[string]*entry), byUser: make(map[int64]map[string]*entry),
		pending: make(map[string]chan message), stop: make(chan struct{})}
	for topic, h := range map[string]func([]byte){announceTopic: s.onAnnounce, nodeTopic(s.inst): s.onNodeMessage} {
		unsub, err := bus.Subscribe(topic, h)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.unsubs = append(s.unsubs, unsub)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.announceLoop()
	}()
	return s, nil
}

// Register adds the call operations to a realtime server and ends calls
// whose device disconnects from it.
func (s *Service) Register(rt *ws.Server) {
	rt.Handle("call_invite", s.opInvite)
	rt.Handle("call_accept", s.opAccept)
	rt.Handle("call_decline", s.opFinish(opDecline))
	rt.Handle("call_cancel", s.opFinish(opCancel))
	rt.Handle("call_hangup", s.opFinish(opHangup))
	rt.Handle("call_ice", s.opICE)
	prev := rt.OnDisconnect
	rt.OnDisconnect = func(c *ws.Conn) {
		if prev != nil {
			prev(c)
		}
		s.connGone(c.UserID(), c.ID())
	}
}

// Close stops the ring timers and the announcer, leaves the bus topics and
// waits for the Service's goroutines. Calls still live are forgotten
// without a system message: by the time a node closes, the WebSockets of
// its callers have gone and their calls have ended.
func (s *Service) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	own := make([]*call, 0, len(s.own))
	for _, c := range s.own {
		own = append(own, c)
	}
	s.mu.Unlock()
	close(s.stop)
	for _, c := range own {
		c.mu.Lock()
		if c.timer != nil {
			c.timer.Stop()
		}
		c.mu.Unlock()
	}
	for _, unsub := range s.unsubs {
		unsub()
	}
	s.wg.Wait()
}

// enter registers a goroutine about to run for the Service; false once the
// Service is closing. The goroutine calls s.wg.Done when it ends.
func (s *Service) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// spawn runs f on a goroutine that Close waits for.
func (s *Service) spawn(f func()) {
	if !s.enter() {
		return
	}
	go func() {
		defer s.wg.Done()
		f()
	}()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// publish sends data on topic, logging a failure: signaling is best
// effort, and a client that misses an event learns the outcome from the
// call's end (or its own timeouts).
func (s *Service) publish(topic string, data []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
	defer cancel()
	if err := s.bus.Publish(ctx, topic, data); err != nil {
		s.log.Warn("calls: bus publish failed", "topic", topic, "err", err)
	}
}
