package views

import (
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
)

// The funnel keeps its times to connect at the precision this page shows
// them (db.ConnectBucket), and takes its median and 90th percentile from
// those buckets. That is exact only if every time reads the same as its
// bucket, and the buckets keep the times' order: these tests hold
// ConnectBucket to Page.Duration.

func checkConnectBucket(t *testing.T, d time.Duration) {
	t.Helper()
	b := db.ConnectBucket(d)
	for _, lang := range []string{"nb", "en"} {
		p := Page{Lang: lang}
		if got, want := p.Duration(b), p.Duration(d); got != want {
			t.Fatalf("%s (%d ns) reads %q, its bucket %s %q (%s)", d, int64(d), want, b, got, lang)
		}
	}
	if b != b.Round(time.Second) {
		t.Fatalf("bucket of %s is %s, not whole seconds", d, b)
	}
}

func TestConnectBucketReadsAsTheTime(t *testing.T) {
	t.Parallel()
	s, m, h, day := time.Second, time.Minute, time.Hour, 24*time.Hour
	for _, d := range []time.Duration{
		0, 1, 499 * time.Millisecond, 500 * time.Millisecond, -500 * time.Millisecond, -501 * time.Millisecond,
		s, 59 * s, 59*s + 499*time.Millisecond, 59*s + 500*time.Millisecond, m, m + s, 59*m + 59*s,
		h - 500*time.Millisecond, h - 501*time.Millisecond, h, h + 29*s, h + 30*s, h + 59*s + 500*time.Millisecond,
		7*h + 15*m, 7*h + 15*m + 59*s, day - 31*s, day - 30*s, day - 500*time.Millisecond, day, day + 59*m + 59*s,
		day + h, 2*day + 3*h + 59*m, 2*day + 3*h + 59*m + 59*s + 500*time.Millisecond, 400 * day, -3 * h, -day - 1,
	} {
		checkConnectBucket(t, d)
	}
	// Every second of the first three days, as the bench's seed spreads
	// them, and the half seconds around them.
	for r := time.Duration(-10); r < 3*24*3600; r++ {
		checkConnectBucket(t, r*s)
		checkConnectBucket(t, r*s+500*time.Millisecond)
		checkConnectBucket(t, r*s-500*time.Millisecond-1)
	}
}

// FuzzConnectBucket: any two times read as their buckets, and their
// buckets are in their order (so the percentile of the buckets is the
// bucket of the percentile).
func FuzzConnectBucket(f *testing.F) {
	f.Add(int64(0), int64(time.Hour))
	f.Add(int64(time.Hour-time.Second/2), int64(time.Hour))
	f.Add(int64(24*time.Hour-30*time.Second), int64(24*time.Hour))
	f.Fuzz(func(t *testing.T, a, b int64) {
		const limit = int64(100 * 365 * 24 * time.Hour)
		if a < -limit || a > limit || b < -limit || b > limit {
			t.Skip()
		}
		da, dbb := time.Duration(min(a, b)), time.Duration(max(a, b))
		checkConnectBucket(t, da)
		checkConnectBucket(t, dbb)
		if db.ConnectBucket(da) > db.ConnectBucket(dbb) {
			t.Fatalf("%s <= %s but their buckets %s > %s", da, dbb, db.ConnectBucket(da), db.ConnectBucket(dbb))
		}
	})
}
