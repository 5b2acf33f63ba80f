package service

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Defaults of HashParams (and of serve's --hash-memory and --hash-time).
const (
	DefaultHashMemory = 19 * 1024 // KiB
	DefaultHashTime   = 2
)

// HashParams are the argon2id parameters for new password hashes. Existing
// hashes keep the parameters written in their PHC string.
type HashParams struct {
	Memory  uint32 // KiB; zero value means DefaultHashMemory (19 MiB)
	Time    uint32 // iterations; zero value means DefaultHashTime (2)
	Threads uint8  // zero value means 1
}

func (p HashParams) withDefaults() HashParams {
	if p.Memory == 0 {
		p.Memory = DefaultHashMemory
	}
	if p.Time == 0 {
		p.Time = DefaultHashTime
	}
	if p.Threads == 0 {
		p.Threads = 1
	}
	return p
}

// String describes the parameters, for the load generator's report.
func (p HashParams) String() string {
	p = p.withDefaults()
	return fmt.Sprintf("argon2id m=%d KiB t=%d p=%d", p.Memory, p.Time, p.Threads)
}

const saltLen, keyLen = 16, 32

// hashPassword returns a PHC string: $argon2id$v=19$m=..,t=..,p=..$salt$key.
func hashPassword(password string, p HashParams) (string, error) {
	p = p.withDefaults()
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// checkPassword reports whether password matches the PHC string hash.
func checkPassword(password, hash string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var m, t uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &threads); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
