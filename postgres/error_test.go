package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"parley"
)

func TestMapError(t *testing.T) {
	pg := func(code, constraint string) error {
		return fmt.Errorf("query: %w", &pgconn.PgError{Code: code, ConstraintName: constraint, Message: "driver text"})
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"parley error", parley.Errorf(parley.EGROUPFULL, "full"), parley.EGROUPFULL},
		{"no rows", pgx.ErrNoRows, parley.ENOTFOUND},
		{"username", pg("23505", usernameKey), parley.EUSERNAMETAKEN},
		{"email", pg("23505", emailKey), parley.EEMAILTAKEN},
		{"code", pg("23505", codeKey), parley.ECODETAKEN},
		{"other unique", pg("23505", "sessions_token_hash_key"), parley.ECONFLICT},
		{"foreign key", pg("23503", "members_user_id_fkey"), parley.ENOTFOUND},
		{"admin shutdown", pg("57P01", ""), parley.EUNAVAILABLE},
		{"crash shutdown", pg("57P02", ""), parley.EUNAVAILABLE},
		{"starting up", pg("57P03", ""), parley.EUNAVAILABLE},
		{"connection failure", pg("08006", ""), parley.EUNAVAILABLE},
		{"too many connections", pg("53300", ""), parley.EUNAVAILABLE},
		{"read-only standby", pg("25006", ""), parley.EUNAVAILABLE},
		{"syntax error", pg("42601", ""), parley.EINTERNAL},
		{"connect error", &pgconn.ConnectError{}, parley.EUNAVAILABLE},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, parley.EUNAVAILABLE},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), parley.EUNAVAILABLE},
		{"eof", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), parley.EUNAVAILABLE},
		{"conn closed", pgconn.ErrConnClosed, parley.EUNAVAILABLE},
		{"pool closed", puddle.ErrClosedPool, parley.EUNAVAILABLE},
		{"deadline", fmt.Errorf("acquire: %w", context.DeadlineExceeded), parley.EUNAVAILABLE},
		{"canceled", context.Canceled, parley.EINTERNAL},
		{"bug", errors.New("bug"), parley.EINTERNAL},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := mapError(c.err)
			if got := parley.ErrorCode(err); got != c.want {
				t.Fatalf("code %q (%v), want %q", got, err, c.want)
			}
			if c.want == parley.EUNAVAILABLE && !errors.Is(err, c.err) {
				t.Fatalf("%v does not keep the cause %v for logs", err, c.err)
			}
		})
	}
}

func TestTargetSchema(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "",
		"parley":              "parley",
		"Parley, public":      "parley",
		` "My Schema",public`: "My Schema",
		`"$user", public`:     "",
		"$user":               "",
	} {
		if got := targetSchema(in); got != want {
			t.Errorf("targetSchema(%q) = %q, want %q", in, got, want)
		}
	}
}
