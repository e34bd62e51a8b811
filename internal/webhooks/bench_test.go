package webhooks

import (
	"bytes"
	"testing"
	"time"
)

// BenchmarkSign signs one delivery (the Onboard-Signature header) of a
// typical event body (1 KiB) and of a large one (64 KiB).
func BenchmarkSign(b *testing.B) {
	secret := []byte("whsec_0123456789abcdef0123456789abcdef")
	at := time.Unix(1767225600, 0)
	for _, c := range []struct {
		name string
		size int
	}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}} {
		body := bytes.Repeat([]byte("x"), c.size)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				Sign(secret, at, body)
			}
		})
	}
}
