package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Headers of every POST. A receiver verifies HeaderSignature (see the
// README's "Webhooks" section) and drops an event whose HeaderEventID it
// has seen: a delivery may arrive more than once.
const (
	HeaderSignature = "Onboard-Signature"
	HeaderEventID   = "Onboard-Event-Id"
	HeaderEventType = "Onboard-Event-Type"
)

// Sign is the Onboard-Signature header for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 with secret over "<t>.<body>">".
// The timestamp inside the signed text lets a receiver refuse an old
// message replayed later.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}
