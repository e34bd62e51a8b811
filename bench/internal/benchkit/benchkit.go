// Package benchkit holds what the benchmark programs under bench/ share: a
// throwaway migrated database, distinct organisation numbers, percentiles and
// the CPU and memory readings they report. It is internal to bench/, so the
// service never depends on it.
package benchkit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/onboard-altinn/onboard/internal/db"
)

// NewDatabase creates a fresh database named onboard_bench_<name>_<random>
// on the server of admin (a DATABASE_URL), applies the service's migrations
// and River's to it, and returns its URL and a function that drops it. It
// takes the approach of internal/db/dbtest, without a testing.TB.
func NewDatabase(ctx context.Context, admin, name string) (string, func(), error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	dbName := "onboard_bench_" + name + "_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("connect to DATABASE_URL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %q`, dbName)); err != nil {
		return "", nil, fmt.Errorf("create %s: %w", dbName, err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			_, _ = c.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, dbName))
			c.Close(ctx)
		}
	}
	u, err := url.Parse(admin)
	if err != nil {
		drop()
		return "", nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	u.Path = "/" + dbName
	d, err := db.Open(ctx, u.String())
	if err != nil {
		drop()
		return "", nil, err
	}
	defer d.Close()
	if _, err := d.Migrate(ctx); err != nil {
		drop()
		return "", nil, err
	}
	return u.String(), drop, nil
}

// AdminURL returns DATABASE_URL from getenv, or an error that says how to get one.
func AdminURL(getenv func(string) string, prog string) (string, error) {
	u := getenv("DATABASE_URL")
	if u == "" {
		return "", fmt.Errorf("DATABASE_URL is not set (try: DATABASE_URL=$(scripts/devdb.sh start) go run ./bench/%s)", prog)
	}
	return u, nil
}

// OrgNumbers returns n distinct organisation numbers with valid mod-11 check
// digits, starting with 8 or 9 like real ones, scattered by a permutation
// that seed picks, so two programs (or two runs with different seeds) can
// use different ones.
func OrgNumbers(n int, seed int) []string {
	const space = 20_000_000 // eight-digit bases 80000000..99999999
	out := make([]string, 0, n)
	for j := 0; len(out) < n && j < space; j++ {
		base := 80_000_000 + (j*7919+seed*104_729+12345)%space // 7919 is prime to the space: a permutation
		if c := checkDigit(base); c >= 0 {
			out = append(out, strconv.Itoa(base*10+c))
		}
	}
	return out
}

// checkDigit is the mod-11 check digit of an eight-digit base (weights
// 3 2 7 6 5 4 3 2), or -1 when the base has none (remainder 1).
func checkDigit(base int) int {
	weights := [8]int{2, 3, 4, 5, 6, 7, 2, 3} // from the last digit of the base
	sum := 0
	for _, w := range weights {
		sum += base % 10 * w
		base /= 10
	}
	switch c := 11 - sum%11; c {
	case 11:
		return 0
	case 10:
		return -1
	default:
		return c
	}
}

// Percentile returns the p-th percentile of sorted (nearest rank).
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Sorted returns a sorted copy of d.
func Sorted(d []time.Duration) []time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}

// FmtDur writes a duration with three significant figures, as bench/list does.
func FmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
}

// Ratio formats a/b as "4.2x", or "-" when b is zero.
func Ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// SelfCPU returns the user plus system CPU time this process has used
// (getrusage RUSAGE_SELF): every goroutine, the runtime and the GC.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU fields; 100 on
// every Linux this runs on.
const clockTicks = 100

// PidCPU returns the user plus system CPU time of process pid, from
// /proc/<pid>/stat (10 ms resolution).
func PidCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	return statCPU(b)
}

func statCPU(b []byte) (time.Duration, error) {
	// The command name may hold spaces: the fields start after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc stat line")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc stat line")
	}
	// Fields 14 and 15 of the line (utime, stime) are 12 and 13 after ')'.
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc stat line")
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// BackendsCPU returns the CPU time of each Postgres backend serving the
// database pool is connected to (from pg_stat_activity and /proc, so only
// for a server on this machine whose processes this user may read). Other
// databases' backends, and the server's own processes (WAL writer,
// checkpointer), are left out.
func BackendsCPU(ctx context.Context, pool interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) (map[int]time.Duration, error) {
	rows, err := pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return nil, fmt.Errorf("backend pids: %w", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("backend pids: %w", err)
	}
	out := make(map[int]time.Duration, len(pids))
	for _, pid := range pids {
		if d, err := PidCPU(int(pid)); err == nil {
			out[int(pid)] = d
		}
	}
	return out, nil
}

// CPUSince is the CPU the backends in after used since before: a backend
// missing from before started in between and counts whole.
func CPUSince(before, after map[int]time.Duration) time.Duration {
	var total time.Duration
	for pid, d := range after {
		total += d - before[pid]
	}
	return total
}

// Memory is what /proc/<pid>/status says about a process's memory, in bytes.
type Memory struct {
	RSS, HWM uint64 // VmRSS now, VmHWM the highest VmRSS since the process began
	// Anon and File split VmRSS: the process's private memory (heap,
	// stacks, GC metadata) and the pages of its binary and other files,
	// which the page cache shares and can take back.
	Anon, File uint64
}

// PidMemory reads VmRSS, VmHWM, RssAnon and RssFile of process pid.
func PidMemory(pid int) (Memory, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return Memory{}, err
	}
	defer f.Close()
	var m Memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM" && k != "RssAnon" && k != "RssFile") {
			continue
		}
		fs := strings.Fields(v) // "12345 kB"
		if len(fs) < 1 {
			continue
		}
		n, err := strconv.ParseUint(fs[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			m.RSS = n << 10
		case "VmHWM":
			m.HWM = n << 10
		case "RssAnon":
			m.Anon = n << 10
		case "RssFile":
			m.File = n << 10
		}
	}
	if m.RSS == 0 {
		return m, fmt.Errorf("no VmRSS for pid %d", pid)
	}
	return m, sc.Err()
}

// MiB formats bytes as mebibytes.
func MiB(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// FreeAddr returns a loopback address with a port that was free a moment
// ago, for a child process that must know its address before it starts.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// SimAppVars are the settings of an in-process app (app.Build) with the
// built-in simulator on simAddr and a fresh Maskinporten key, its web side
// not served: what bench/reconcile and bench/campaign build on.
func SimAppVars(dbURL, dataDir, simAddr string) (map[string]string, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"DATABASE_URL":             dbURL,
		"ONBOARD_DATA_DIR":         dataDir,
		"ONBOARD_ADDR":             "127.0.0.1:0", // the web side is not served
		"ONBOARD_PUBLIC_URL":       "http://127.0.0.1:8080",
		"ONBOARD_SIM_ADDR":         simAddr,
		"ONBOARD_SIM_PUBLIC_URL":   "http://" + simAddr,
		"ONBOARD_MASKINPORTEN_KEY": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})),
		"ONBOARD_SESSION_KEY":      "0123456789abcdef0123456789abcdef-bench",
		// The simulator in memory: a benchmark's 10,000 creates would
		// otherwise pay for a snapshot of its state each.
		"ONBOARD_SIM_STATE": "off",
	}, nil
}
