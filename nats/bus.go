// Package nats is the parley.Bus over core NATS publish/subscribe, for a
// deployment of several nodes: every node opens a Bus to the same NATS
// server (or cluster) and an event published on one node reaches the
// subscribers on all of them.
//
// Topic t travels on subject "parley.t" ("<prefix>.parley.t" with
// WithSubjectPrefix, so deployments or test runs sharing a server stay
// apart).
//
// # Delivery
//
// Delivery is at most once, as core NATS is. Messages from one Bus to one
// topic reach every subscriber in publish order (NATS keeps the order of one
// connection's messages on one subject); there is no order between
// publishers or between topics. While the connection is down, the Bus
// reconnects forever with a capped exponential backoff and buffers what is
// published (up to the reconnect buffer, after which Publish fails); its
// subscriptions are restored on reconnect, but what was published while a
// subscriber was away is lost. That is by design: the database is the
// source of truth, and clients converge through sync; WithReconnectHandler
// tells the node when to ask them to.
//
// Each subscription has its own delivery goroutine (nats.go's), which calls
// the handler for one message at a time. A handler that blocks holds up only
// its own subscription; if one falls far behind, NATS drops its messages and
// the Bus logs a slow-consumer error.
package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"parley"
)

// Defaults for the options.
const (
	// DefaultPublishTimeout bounds how long a Publish may wait on a slow or
	// stalled network (and how long Subscribe and Close wait for the server
	// to confirm).
	DefaultPublishTimeout = 5 * time.Second
	// DefaultReconnectBufSize is how many bytes of publishes are kept while
	// reconnecting.
	DefaultReconnectBufSize = 8 << 20
)

// Reconnect backoff: the delay after each failed pass over the server list
// doubles from minReconnectDelay up to maxReconnectDelay, with ±20% jitter
// so that the nodes of a deployment do not reconnect in lockstep.
const (
	minReconnectDelay = 100 * time.Millisecond
	maxReconnectDelay = 2 * time.Second
)

// ErrClosed is returned (wrapped) by Publish and Subscribe after Close.
var ErrClosed = natsgo.ErrConnectionClosed

// Option configures Open.
type Option func(*options)

type options struct {
	logger         *slog.Logger
	prefix         string
	name           string
	publishTimeout time.Duration
	reconnectBuf   int
	onReconnect    func()
	natsOpts       []natsgo.Option
}

// WithLogger sets the logger for connection events (disconnected,
// reconnected, slow consumer, ...). Without it, slog.Default() is used.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithSubjectPrefix puts prefix in front of every subject:
// "<prefix>.parley.<topic>". It must be one or more dot-separated tokens
// without wildcards or whitespace.
func WithSubjectPrefix(prefix string) Option { return func(o *options) { o.prefix = prefix } }

// WithName sets the connection name the NATS server shows for this node.
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithPublishTimeout sets how long a Publish may block writing to a slow
// network before it fails and the connection is re-established. Zero means
// DefaultPublishTimeout.
func WithPublishTimeout(d time.Duration) Option { return func(o *options) { o.publishTimeout = d } }

// WithReconnectBufSize sets how many bytes of publishes are buffered while
// reconnecting; beyond that, Publish fails until the connection is back.
// Zero means DefaultReconnectBufSize; -1 disables the buffer.
func WithReconnectBufSize(n int) Option { return func(o *options) { o.reconnectBuf = n } }

// WithReconnectHandler sets a function called each time the Bus has
// reconnected to a server, after its subscriptions were sent again. Events
// published while it was away may have been lost (to this node's
// subscribers, and those of this node's publishes that did not fit the
// reconnect buffer), so a node uses it to tell its clients to resync. f runs
// on nats.go's callback goroutine and must not block.
func WithReconnectHandler(f func()) Option { return func(o *options) { o.onReconnect = f } }

// WithNATSOptions passes options to nats.go (credentials, TLS, ...). They
// are applied after the Bus's own, so they may override them.
func WithNATSOptions(opts ...natsgo.Option) Option {
	return func(o *options) { o.natsOpts = append(o.natsOpts, opts...) }
}

// Bus is a parley.Bus over one NATS connection. It is safe for concurrent
// use.
type Bus struct {
	nc      *natsgo.Conn
	prefix  string // prepended to topics: "parley." or "<prefix>.parley."
	timeout time.Duration
	log     *slog.Logger
	closing atomic.Bool // set by Close, so its disconnect is not logged as a fault
}

var _ parley.Bus = (*Bus)(nil)

// Open connects to the NATS server(s) at serverURL (a comma-separated list
// is allowed). It fails if no server can be reached now; once connected,
// the Bus reconnects by itself, forever, until Close.
func Open(serverURL string, opts ...Option) (*Bus, error) {
	o := options{
		logger:         slog.Default(),
		publishTimeout: DefaultPublishTimeout,
		reconnectBuf:   DefaultReconnectBufSize,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.publishTimeout <= 0 {
		o.publishTimeout = DefaultPublishTimeout
	}
	if o.reconnectBuf == 0 {
		o.reconnectBuf = DefaultReconnectBufSize
	}
	prefix := "parley."
	if o.prefix != "" {
		if !validSubject(o.prefix) {
			return nil, fmt.Errorf("nats: invalid subject prefix %q", o.prefix)
		}
		prefix = o.prefix + "." + prefix
	}
	b := &Bus{
		prefix:  prefix,
		timeout: o.publishTimeout,
		log:     o.logger.With("component", "nats"),
	}

	nopts := []natsgo.Option{
		natsgo.Name(o.name),
		natsgo.MaxReconnects(-1),
		natsgo.CustomReconnectDelay(reconnectDelay),
		natsgo.ReconnectBufSize(o.reconnectBuf),
		// A write that stalls longer than the publish timeout fails, and
		// the connection is dropped and re-established rather than left
		// half-dead until pings notice.
		natsgo.FlusherTimeout(o.publishTimeout),
		natsgo.ReconnectOnFlusherError(),
		// Notice a dead server in about a minute even when idle.
		natsgo.PingInterval(20 * time.Second),
		natsgo.MaxPingsOutstanding(3),
		natsgo.DisconnectErrHandler(b.onDisconnect),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			b.log.Info("nats: reconnected", "server", nc.ConnectedUrlRedacted(), "reconnects", nc.Reconnects)
			if o.onReconnect != nil && !b.closing.Load() {
				o.onReconnect()
			}
		}),
		natsgo.ClosedHandler(func(*natsgo.Conn) { b.log.Debug("nats: connection closed") }),
		natsgo.LameDuckModeHandler(func(nc *natsgo.Conn) {
			b.log.Info("nats: server entering lame duck mode, will move", "server", nc.ConnectedUrlRedacted())
		}),
		natsgo.ErrorHandler(b.onAsyncError),
	}
	nc, err := natsgo.Connect(serverURL, append(nopts, o.natsOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("nats: connect to %s: %w", redact(serverURL), err)
	}
	b.nc = nc
	b.log.Debug("nats: connected", "server", nc.ConnectedUrlRedacted())
	return b, nil
}

func (b *Bus) onDisconnect(_ *natsgo.Conn, err error) {
	if b.closing.Load() {
		return
	}
	b.log.Warn("nats: disconnected, reconnecting", "err", err)
}

func (b *Bus) onAsyncError(_ *natsgo.Conn, sub *natsgo.Subscription, err error) {
	if sub != nil {
		b.log.Error("nats: subscription error", "subject", sub.Subject, "err", err)
		return
	}
	b.log.Error("nats: error", "err", err)
}

// reconnectDelay is how long to wait after the attempts-th failed pass over
// the server list (attempts counts from 1).
func reconnectDelay(attempts int) time.Duration {
	d := minReconnectDelay << min(max(attempts-1, 0), 10)
	d = min(d, maxReconnectDelay)
	return d - d/5 + rand.N(2*d/5+1)
}

// Publish sends data to topic's subscribers on every node. nats.go copies
// data before Publish returns. Publish fails at once if ctx is done, the
// Bus is closed (ErrClosed) or the reconnect buffer is full; otherwise it
// waits at most the publish timeout for a slow network. A nil error means
// the message was handed to the connection, not that anyone got it.
func (b *Bus) Publish(ctx context.Context, topic string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	subj, err := b.subject(topic)
	if err != nil {
		return err
	}
	if err := b.nc.Publish(subj, data); err != nil {
		return fmt.Errorf("nats: publish to %q: %w", topic, err)
	}
	return nil
}

// Subscribe calls handler, on the subscription's own goroutine, with each
// message published to topic. When connected, Subscribe returns once the
// server has the subscription (or after the publish timeout), so a message
// published afterwards on any node connected to the same server reaches it.
// When disconnected, the subscription is made on reconnect. After
// unsubscribe returns, the handler is not called again (a call already
// running finishes).
func (b *Bus) Subscribe(topic string, handler func(data []byte)) (unsubscribe func(), err error) {
	if handler == nil {
		return nil, errors.New("nats: nil handler")
	}
	subj, err := b.subject(topic)
	if err != nil {
		return nil, err
	}
	// nats.go gives each message a Data buffer of its own.
	sub, err := b.nc.Subscribe(subj, func(m *natsgo.Msg) { handler(m.Data) })
	if err != nil {
		return nil, fmt.Errorf("nats: subscribe to %q: %w", topic, err)
	}
	if b.nc.IsConnected() {
		if err := b.nc.FlushTimeout(b.timeout); err != nil {
			if b.nc.IsClosed() {
				return nil, fmt.Errorf("nats: subscribe to %q: %w", topic, ErrClosed)
			}
			// Still subscribed: nats.go (re)sends it when it can.
			b.log.Warn("nats: subscription not yet confirmed by the server", "topic", topic, "err", err)
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			err := sub.Unsubscribe()
			if err != nil && !errors.Is(err, natsgo.ErrConnectionClosed) && !errors.Is(err, natsgo.ErrBadSubscription) {
				b.log.Warn("nats: unsubscribe", "topic", topic, "err", err)
			}
		})
	}, nil
}

// Connected reports whether the Bus is connected to a server now (for
// readiness checks): false while reconnecting and after Close.
func (b *Bus) Connected() bool { return b.nc.IsConnected() }

// Close flushes what was published (waiting at most the publish timeout)
// and closes the connection. Later Publish and Subscribe calls fail with
// ErrClosed; handlers are not called after Close returns, except calls
// already running. Close is idempotent.
func (b *Bus) Close() error {
	if b.closing.Swap(true) {
		return nil
	}
	if b.nc.IsConnected() {
		if err := b.nc.FlushTimeout(b.timeout); err != nil {
			b.log.Warn("nats: flush on close", "err", err)
		}
	}
	b.nc.Close()
	return nil
}

// subject maps a topic to its subject. A topic is one or more tokens
// separated by dots, none empty, none a wildcard ("*" or ">"), with no
// whitespace: the topics parley builds (conv.42, user.7, presence) all are.
func (b *Bus) subject(topic string) (string, error) {
	if !validSubject(topic) {
		return "", fmt.Errorf("nats: invalid topic %q", topic)
	}
	return b.prefix + topic, nil
}

func validSubject(s string) bool {
	if s == "" {
		return false
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" || tok == "*" || tok == ">" {
			return false
		}
		for _, r := range tok {
			if r <= ' ' || r == 0x7f {
				return false
			}
		}
	}
	return true
}

// redact hides passwords and tokens in a comma-separated list of URLs.
func redact(serverURLs string) string {
	urls := strings.Split(serverURLs, ",")
	for i, s := range urls {
		if u, err := url.Parse(strings.TrimSpace(s)); err == nil && u.User != nil {
			if _, hasPassword := u.User.Password(); !hasPassword {
				u.User = url.User("xxxxx") // a bare token
			}
			urls[i] = u.Redacted()
		}
	}
	return strings.Join(urls, ",")
}
