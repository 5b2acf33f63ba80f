//go:build tools

package parley

// Keeps the project's dependencies in go.mod while the packages that use
// them are written.
import (
	_ "github.com/SherClockHolmes/webpush-go"
	_ "github.com/coder/websocket"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/nats-io/nats-server/v2/server"
	_ "github.com/nats-io/nats.go"
	_ "github.com/pion/webrtc/v4"
	_ "github.com/pressly/goose/v3"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/sashabaranov/go-openai"
	_ "golang.org/x/crypto/argon2"
	_ "golang.org/x/time/rate"
	_ "modernc.org/sqlite"
)
