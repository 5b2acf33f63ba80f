// Package push sends Web Push notifications (RFC 8030, 8291, 8292): the
// deployment's VAPID key, the endpoints a subscription may name, the
// decision of who is notified of what (docs/protocol.md, "Who is
// notified") and the pool that sends the pushes the store queues.
package push

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"

	"parley"
)

// Request is one push to send to one subscription.
type Request struct {
	Endpoint string
	P256dh   string // the subscription's public key, base64url
	Auth     string // the subscription's auth secret, base64url
	Payload  []byte // JSON, at most parley.PushPayloadMax bytes
	TTL      time.Duration
	Urgency  string
	Topic    string
}

// Response is what the push service answered.
type Response struct {
	Status int
	// RetryAfter is the push service's Retry-After (429, 503); zero when
	// absent.
	RetryAfter time.Duration
}

// Sender sends one push. WebPush is the real one; tests of the decision may
// use another.
type Sender interface {
	Send(ctx context.Context, r Request) (Response, error)
}

// WebPush encrypts (aes128gcm, RFC 8291) and signs (VAPID, RFC 8292) pushes
// with a maintained library and posts them through client.
type WebPush struct {
	key     parley.VAPIDKey
	subject string
	client  *http.Client
}

// NewWebPush returns a sender signing with key; subject is the VAPID "sub"
// (a mailto: or https: URL the push service may contact).
func NewWebPush(key parley.VAPIDKey, subject string, client *http.Client) *WebPush {
	return &WebPush{key: key, subject: subject, client: client}
}

// Send posts r to its endpoint.
func (w *WebPush) Send(ctx context.Context, r Request) (Response, error) {
	ttl := int(r.TTL / time.Second)
	resp, err := webpush.SendNotificationWithContext(ctx, r.Payload,
		&webpush.Subscription{Endpoint: r.Endpoint, Keys: webpush.Keys{P256dh: r.P256dh, Auth: r.Auth}},
		&webpush.Options{
			HTTPClient:      w.client,
			Subscriber:      w.subject,
			Topic:           r.Topic,
			TTL:             ttl,
			Urgency:         webpush.Urgency(r.Urgency),
			VAPIDPublicKey:  w.key.Public,
			VAPIDPrivateKey: w.key.Private,
		})
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return Response{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}, nil
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// NewVAPIDKey generates a VAPID key pair (P-256).
func NewVAPIDKey(now time.Time) (parley.VAPIDKey, error) {
	priv, pub, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		return parley.VAPIDKey{}, err
	}
	return parley.VAPIDKey{Public: pub, Private: priv, CreatedAt: now.UTC()}, nil
}
