// Package pushtest is a push service for tests: it speaks RFC 8030 over
// plain HTTP on loopback, checks each push's VAPID token (RFC 8292: ES256
// signed by the key the server advertises, aud, exp, sub) and decrypts its
// payload (RFC 8291, aes128gcm) with the private key of a subscription it
// made up, as a browser would. A real browser push service cannot be reached
// from tests; nothing else about pushes is faked.
package pushtest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Push is one push the service accepted, decrypted.
type Push struct {
	Subscription string // the name the subscription was made with
	Payload      map[string]any
	Raw          []byte
	TTL          int
	Urgency      string
	Topic        string
	At           time.Time
}

// Answer is what the service answers a push with, instead of accepting it.
type Answer struct {
	Status     int
	RetryAfter string
}

// Subscription is a browser's subscription on the service, with its private
// key.
type Subscription struct {
	Name     string
	Endpoint string
	P256dh   string // base64url
	Auth     string // base64url
	priv     *ecdh.PrivateKey
	auth     []byte
}

// JSON is the subscription as PushSubscription.toJSON() gives it, with a
// label: the body of POST /api/v1/push/subscriptions.
func (s *Subscription) JSON(label string) map[string]any {
	return map[string]any{"endpoint": s.Endpoint, "keys": map[string]any{"p256dh": s.P256dh, "auth": s.Auth}, "label": label}
}

// Service is the push service.
type Service struct {
	t   testing.TB
	srv *httptest.Server
	// Host is the service's host:port (for --push-allowed-hosts).
	Host string

	mu       sync.Mutex
	key      string // the VAPID public key pushes must be signed with
	subs     map[string]*Subscription
	pushes   []Push
	answers  map[string][]Answer // per subscription, used up in order
	attempts map[string]int      // per subscription: requests received
	delay    time.Duration       // before answering each push
	errs     []string
	inflight int
	maxIn    int
}

// Start runs a push service on loopback until the test ends. vapidKey is
// the public key pushes must be signed with (GET /api/v1/push/key).
func Start(t testing.TB, vapidKey string) *Service {
	s := &Service{t: t, key: vapidKey, subs: map[string]*Subscription{}, answers: map[string][]Answer{},
		attempts: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	s.Host = strings.TrimPrefix(s.srv.URL, "http://")
	t.Cleanup(func() {
		s.srv.CloseClientConnections()
		s.srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, e := range s.errs {
			t.Errorf("push service: %s", e)
		}
	})
	return s
}

// Subscribe makes a subscription named name, with a fresh key pair and auth
// secret.
func (s *Service) Subscribe(name string) *Subscription {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	sub := &Subscription{Name: name, Endpoint: s.srv.URL + "/push/" + name,
		P256dh: base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
		Auth:   base64.RawURLEncoding.EncodeToString(auth), priv: priv, auth: auth}
	s.mu.Lock()
	s.subs[name] = sub
	s.mu.Unlock()
	return sub
}

// SetKey sets the VAPID public key pushes must be signed with.
func (s *Service) SetKey(key string) {
	s.mu.Lock()
	s.key = key
	s.mu.Unlock()
}

// Answer makes the next pushes to the subscription get these answers, in
// order, before pushes are accepted again.
func (s *Service) Answer(name string, answers ...Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[name] = append(s.answers[name], answers...)
}

// SetDelay makes the service wait d before answering each push.
func (s *Service) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// Pushes returns the pushes accepted so far (for name, or all for "").
func (s *Service) Pushes(name string) []Push {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Push
	for _, p := range s.pushes {
		if name == "" || p.Subscription == name {
			out = append(out, p)
		}
	}
	return out
}

// Attempts returns the requests the subscription received, accepted or not.
func (s *Service) Attempts(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[name]
}

// MaxInFlight is the most pushes the service was answering at once.
func (s *Service) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxIn
}

func (s *Service) fail(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.errs = append(s.errs, msg)
	s.mu.Unlock()
	http.Error(w, msg, http.StatusBadRequest)
}

func (s *Service) handle(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/push/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method == http.MethodGet {
		// UnifiedPush discovery.
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"unifiedpush":{"version":1}}`)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	sub := s.subs[name]
	s.attempts[name]++
	delay := s.delay
	s.inflight++
	s.maxIn = max(s.maxIn, s.inflight)
	var answer *Answer
	if a := s.answers[name]; len(a) > 0 {
		answer = &a[0]
		s.answers[name] = a[1:]
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
	}()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if sub == nil {
		http.Error(w, "no such subscription", http.StatusGone)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8192))
	if err != nil {
		return
	}
	if len(body) > 4096 {
		s.fail(w, "payload of %d bytes: over 4096", len(body))
		return
	}
	if err := s.checkVAPID(r); err != nil {
		s.fail(w, "VAPID: %v", err)
		return
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		s.fail(w, "Content-Encoding %q, want aes128gcm", ce)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get("TTL"))
	if err != nil || ttl < 0 {
		s.fail(w, "TTL %q", r.Header.Get("TTL"))
		return
	}
	plain, err := decrypt(sub, body)
	if err != nil {
		s.fail(w, "decrypt: %v", err)
		return
	}
	var payload map[string]any
	if err := json.Unmarshal(plain, &payload); err != nil {
		s.fail(w, "payload is not JSON: %v (%q)", err, plain)
		return
	}
	if answer != nil {
		if answer.RetryAfter != "" {
			w.Header().Set("Retry-After", answer.RetryAfter)
		}
		w.WriteHeader(answer.Status)
		return
	}
	s.mu.Lock()
	s.pushes = append(s.pushes, Push{Subscription: name, Payload: payload, Raw: plain, TTL: ttl,
		Urgency: r.Header.Get("Urgency"), Topic: r.Header.Get("Topic"), At: time.Now()})
	n := len(s.pushes)
	s.mu.Unlock()
	w.Header().Set("Location", s.srv.URL+"/message/"+strconv.Itoa(n))
	w.WriteHeader(http.StatusCreated)
}

// checkVAPID checks the Authorization header: "vapid t=<JWT>, k=<key>"
// with k the advertised key and the JWT signed by it (ES256), aud the
// service's origin, exp in the next 24 hours, sub a mailto: or https: URL.
func (s *Service) checkVAPID(r *http.Request) error {
	h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "vapid ")
	if !ok {
		return fmt.Errorf("authorization %q is not vapid", r.Header.Get("Authorization"))
	}
	var token, k string
	for _, part := range strings.Split(h, ",") {
		part = strings.TrimSpace(part)
		if v, ok := strings.CutPrefix(part, "t="); ok {
			token = v
		} else if v, ok := strings.CutPrefix(part, "k="); ok {
			k = v
		}
	}
	s.mu.Lock()
	want := s.key
	s.mu.Unlock()
	if k != want {
		return fmt.Errorf("k=%q, want the advertised key %q", k, want)
	}
	keyBytes, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil {
		return err
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), keyBytes)
	if err != nil {
		return fmt.Errorf("k is not a P-256 point: %v", err)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("token is not a JWT")
	}
	var header struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}
	if err := decodePart(parts[0], &header); err != nil || header.Alg != "ES256" {
		return fmt.Errorf("JWT header %+v (%v), want alg ES256", header, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return errors.New("signature is not 64 bytes of base64url")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("JWT signature does not verify with the advertised key")
	}
	var claims struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}
	if err := decodePart(parts[1], &claims); err != nil {
		return err
	}
	if claims.Aud != s.srv.URL {
		return fmt.Errorf("aud %q, want %q", claims.Aud, s.srv.URL)
	}
	exp := time.Unix(claims.Exp, 0)
	if exp.Before(time.Now()) || exp.After(time.Now().Add(24*time.Hour)) {
		return fmt.Errorf("exp %v is not within the next 24 hours", exp)
	}
	if !strings.HasPrefix(claims.Sub, "mailto:") && !strings.HasPrefix(claims.Sub, "https:") {
		return fmt.Errorf("sub %q is not a mailto or https URL", claims.Sub)
	}
	return nil
}

func decodePart(p string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// decrypt opens an aes128gcm body (RFC 8188) encrypted for sub (RFC 8291).
func decrypt(sub *Subscription, body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("body shorter than its header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if idlen != 65 || len(body) < 21+idlen {
		return nil, fmt.Errorf("keyid of %d bytes, want the 65-byte sender key", idlen)
	}
	asPublic := body[21 : 21+idlen]
	ct := body[21+idlen:]
	if len(ct) > int(rs) {
		return nil, fmt.Errorf("%d bytes of ciphertext: more than one record of %d", len(ct), rs)
	}
	as, err := ecdh.P256().NewPublicKey(asPublic)
	if err != nil {
		return nil, err
	}
	secret, err := sub.priv.ECDH(as)
	if err != nil {
		return nil, err
	}
	info := append([]byte("WebPush: info\x00"), sub.priv.PublicKey().Bytes()...)
	info = append(info, asPublic...)
	ikm, err := hkdf.Key(sha256.New, secret, sub.auth, string(info), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, err
	}
	// The last record: data, the delimiter 2, then zero padding.
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 || plain[i] != 2 {
		return nil, errors.New("no last-record delimiter")
	}
	return plain[:i], nil
}
