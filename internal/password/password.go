// Package password hashes and checks staff passwords: argon2id with OWASP's
// recommended minimum (19 MiB, two passes, one lane), stored in the PHC
// string format ($argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, unpadded
// standard base64) so the parameters can be raised later without breaking
// stored hashes: Verify reads them from the hash.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Staff passwords are at least MinLen characters (`onboard staff add`
// checks) and at most MaxLen bytes (longer ones never sign in).
const (
	MinLen = 12
	MaxLen = 1024
)

// The parameters of new hashes. argonMemory is also what one Hash or
// Verify holds while it runs.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Dummy is a hash nobody knows the password of, with Hash's parameters (a
// test checks): Verify it when there is no account, so that answer takes as
// long as a wrong password.
const Dummy = "$argon2id$v=19$m=19456,t=2,p=1$0Hsb28++myoDo2jxZunKhg$WXmreMeyCzPW9SztIdAuDPWawcOVHvkt6TM80Lbfp9g"

// Hash hashes a password with argon2id and a random salt.
func Hash(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify reports whether password is the one hashed in hash (as made by
// Hash, with whatever parameters it was made with), in constant time. A
// malformed hash matches nothing.
func Verify(hash, password string) bool {
	p, ok := parse(hash)
	if !ok {
		return false
	}
	key := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1
}

// params is one hash read from the PHC string format.
type params struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parse reads an argon2id hash in the PHC string format. It takes one
// spelling only, the one Hash writes, and parameters within bounds.
func parse(hash string) (params, bool) {
	var p params
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, false
	}
	var threads uint32
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return p, false
	}
	for i, dst := range []*uint32{&p.memory, &p.time, &threads} {
		var ok bool
		if *dst, ok = phcNumber(fields[i], "mtp"[i:i+1]+"="); !ok {
			return p, false
		}
	}
	// Bounds keep a corrupt row from costing a gigabyte or a minute.
	if p.memory < 8*1024 || p.memory > 1024*1024 || p.time < 1 || p.time > 16 || threads < 1 || threads > 16 {
		return p, false
	}
	p.threads = uint8(threads)
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return p, false
	}
	if p.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return p, false
	}
	// One spelling per hash: the salt and key exactly as Hash writes them
	// (no padding, stray bits or line breaks).
	if base64.RawStdEncoding.EncodeToString(p.salt) != parts[4] || base64.RawStdEncoding.EncodeToString(p.key) != parts[5] {
		return p, false
	}
	return p, true
}

// phcNumber reads "name=value" with value a decimal number written without
// sign or leading zeros.
func phcNumber(s, name string) (uint32, bool) {
	v, ok := strings.CutPrefix(s, name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || strconv.FormatUint(n, 10) != v {
		return 0, false
	}
	return uint32(n), true
}
