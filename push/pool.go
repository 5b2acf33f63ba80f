package push

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"parley"
)

// DefaultSendHold is how long a node holds the pending pushes it took: if it dies
// meanwhile, another node sends them then. It covers a queue's wait for its
// host and one request.
const DefaultSendHold = 2 * SendTimeout

// Reasons of parley_push_failed_total.
const (
	ReasonGone        = "gone"         // 404, 410: the subscription is deleted
	ReasonRateLimited = "rate_limited" // 429: retried after Retry-After
	ReasonServerError = "server_error" // 5xx: retried with backoff
	ReasonNetwork     = "network"      // no answer: retried with backoff
	ReasonGaveUp      = "gave_up"      // MaxAttempts failed tries: dropped
	ReasonRejected    = "rejected"     // another 4xx (bad VAPID, too large): dropped
	ReasonRefused     = "refused"      // the endpoint resolves to a refused address: dropped
)

type metrics struct {
	sent    prometheus.Counter
	failed  *prometheus.CounterVec
	expired prometheus.Counter
	delay   prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_push_sent_total",
			Help: "Web Pushes a push service accepted."}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_push_failed_total",
			Help: "Web Push requests that failed, by reason (gone, rate_limited, server_error, network, gave_up, rejected, refused)."}, []string{"reason"}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{Name: "parley_push_subscriptions_expired_total",
			Help: "Push subscriptions deleted after 60 days unused."}),
		delay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_push_delay_seconds",
			Help:    "Time from the oldest message (or ring) a push tells of to the push service accepting it; includes --push-delay.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 12, 15, 20, 30, 60, 120, 300, 900}}),
	}
	for _, r := range []string{ReasonGone, ReasonRateLimited, ReasonServerError, ReasonNetwork, ReasonGaveUp, ReasonRejected, ReasonRefused} {
		m.failed.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.sent, m.failed, m.expired, m.delay)
	}
	return m
}

// sendLoop takes the pending pushes that are due, as many as the pool has
// room for, and sends each on a goroutine of its own: a slow push service
// fills only its own host's slots.
func (s *Service) sendLoop() {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		s.dispatch()
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// dispatch claims and starts what the pool has room for.
func (s *Service) dispatch() {
	now := s.cfg.Now()
	s.mu.Lock()
	free := s.cfg.Workers - s.running
	var skip []string
	for host, n := range s.busy {
		if n >= s.cfg.PerHost {
			skip = append(skip, host)
		}
	}
	for host, until := range s.blocked {
		if until.After(now) {
			skip = append(skip, host)
		} else {
			delete(s.blocked, host)
		}
	}
	s.mu.Unlock()
	if free <= 0 {
		return
	}
	pending, err := s.store.ClaimPendingPushes(context.Background(), now, now.Add(s.cfg.SendHold), skip, free)
	if err != nil {
		s.log.Warn("push: claim pending pushes", "err", err)
		return
	}
	for _, p := range pending {
		s.mu.Lock()
		full := s.busy[p.Host] >= s.cfg.PerHost || s.blocked[p.Host].After(now)
		if !full {
			s.busy[p.Host]++
			s.running++
		}
		s.mu.Unlock()
		if full {
			// Its host has no room: released at once, taken again when
			// a slot frees (the host is skipped meanwhile).
			if err := s.store.RetryPush(context.Background(), p.ID, now, false); err != nil {
				s.log.Warn("push: release", "err", err)
			}
			continue
		}
		s.wg.Go(func() {
			s.send(p)
			s.mu.Lock()
			s.busy[p.Host]--
			if s.busy[p.Host] == 0 {
				delete(s.busy, p.Host)
			}
			s.running--
			s.mu.Unlock()
			s.poke()
		})
	}
}

// send sends one pending push and records the outcome.
func (s *Service) send(p parley.PendingPush) {
	ctx, cancel := context.WithTimeout(context.Background(), SendTimeout)
	stop := context.AfterFunc(s.stopCtx, cancel) // the node stops: give up at once
	resp, err := s.sender.Send(ctx, Request{Endpoint: p.Endpoint, P256dh: p.P256dh, Auth: p.Auth,
		Payload: p.Payload, TTL: p.TTL, Urgency: p.Urgency, Topic: p.Topic})
	stop()
	cancel()
	if err != nil && s.stopCtx.Err() != nil {
		// Stopped mid-request: the push stays held, and another node (or
		// this one, restarted) sends it when the hold ends.
		return
	}
	now := s.cfg.Now()
	bg := context.Background()
	var serr error
	switch {
	case err != nil && errors.Is(err, ErrRefusedAddress):
		s.fail(ReasonRefused, p, err)
		serr = s.store.DropPush(bg, p.ID)
	case err != nil && ctx.Err() == nil && !isNetError(err):
		// The library refused to build the request (keys that are no
		// point on the curve, a payload too large): it never will.
		s.fail(ReasonRejected, p, err)
		serr = s.store.DropPush(bg, p.ID)
	case err != nil:
		serr = s.retry(p, now, ReasonNetwork, 0, err)
	case resp.Status >= 200 && resp.Status < 300:
		s.m.sent.Inc()
		s.m.delay.Observe(now.Sub(p.Since).Seconds())
		serr = s.store.PushSent(bg, p.ID, now)
	case resp.Status == http.StatusNotFound || resp.Status == http.StatusGone:
		s.fail(ReasonGone, p, nil)
		serr = s.store.PushGone(bg, p.SubscriptionID)
	case resp.Status == http.StatusTooManyRequests:
		wait := resp.RetryAfter
		if wait <= 0 {
			wait = RetryAfterDefault
		}
		wait = min(wait, RetryAfterCap)
		s.mu.Lock()
		if until := now.Add(wait); until.After(s.blocked[p.Host]) {
			s.blocked[p.Host] = until
		}
		s.mu.Unlock()
		s.fail(ReasonRateLimited, p, nil)
		serr = s.store.RetryPush(bg, p.ID, now.Add(wait), false)
	case resp.Status >= 500:
		serr = s.retry(p, now, ReasonServerError, resp.RetryAfter, errors.New("status "+strconv.Itoa(resp.Status)))
	default:
		s.fail(ReasonRejected, p, errors.New("status "+strconv.Itoa(resp.Status)))
		serr = s.store.DropPush(bg, p.ID)
	}
	if serr != nil && parley.ErrorCode(serr) != parley.ENOTFOUND {
		// The push stays held; it is sent again when the hold ends.
		s.log.Warn("push: record outcome", "push", p.ID, "err", serr)
	}
}

// retry schedules another try of p after a failure, or drops it after
// MaxAttempts.
func (s *Service) retry(p parley.PendingPush, now time.Time, reason string, after time.Duration, err error) error {
	s.fail(reason, p, err)
	if p.Attempts+1 >= MaxAttempts {
		s.fail(ReasonGaveUp, p, nil)
		return s.store.DropPush(context.Background(), p.ID)
	}
	return s.store.RetryPush(context.Background(), p.ID, now.Add(max(Backoff(p.Attempts), min(after, RetryCap))), true)
}

// Backoff is the wait after a push's attempts-th failed try (0: the first).
func Backoff(attempts int) time.Duration {
	d := RetryBase << min(attempts, 20)
	return min(d, RetryCap)
}

func (s *Service) fail(reason string, p parley.PendingPush, err error) {
	s.m.failed.WithLabelValues(reason).Inc()
	s.log.Info("push: not sent", "reason", reason, "host", p.Host, "subscription", p.SubscriptionID,
		"attempts", p.Attempts, "err", err)
}

// isNetError reports whether err came from the connection (dial, TLS, the
// exchange), not from building the request.
func isNetError(err error) bool {
	var ue interface{ Timeout() bool }
	return errors.As(err, &ue)
}

// Ring queues a high-urgency push for an incoming call to callee, who has
// no live connection: "Incoming video call from alice", alive while the
// call rings.
func (s *Service) Ring(ctx context.Context, callee int64, conversationID int64, callID, media string, caller parley.UserRef, ring time.Duration) error {
	now := s.cfg.Now()
	name := caller.DisplayName
	if name == "" {
		name = caller.Username
	}
	kind := "audio"
	if media == "video" {
		kind = "video"
	}
	p := Payload{Type: "call", ConversationID: conversationID, Title: "Incoming " + kind + " call from " + truncate(name, 64),
		Body: "Tap to answer", Tag: "call-" + strconv.FormatInt(conversationID, 10),
		URL: "/c/" + strconv.FormatInt(conversationID, 10), SenderID: caller.ID, CallID: callID, Media: media,
		Timestamp: now.UnixMilli()}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	n, err := s.store.QueuePush(ctx, callee, parley.PushNotice{Payload: body, Urgency: parley.UrgencyHigh,
		Topic: p.Tag, TTL: max(ring, time.Second), Since: now, Due: now})
	if n > 0 {
		s.poke()
	}
	return err
}
