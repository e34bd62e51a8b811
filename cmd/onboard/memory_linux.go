package main

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// releaseStartup gives back, once the service is up, the memory only its
// start-up needed: the heap's start-up garbage (debug.FreeOSMemory: a GC,
// then the free pages back to the kernel) and the page mappings of the
// code and read-only data that only start-up ran (config, migrations, the
// set-up checks, the simulator's registration). Those are the binary's
// read-only private mappings: never written, so dropping their page
// mappings (MADV_DONTNEED) loses nothing, and a page the service touches
// again is mapped again from the page cache (a minor fault). Writable
// mappings are left alone. It returns how many bytes of mappings it
// dropped.
func releaseStartup() int64 {
	debug.FreeOSMemory()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0
	}
	defer f.Close()
	type span struct{ start, end uintptr }
	var spans []span
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 00400000-00fbc000 r-xp 00000000 08:01 123 /path/to/onboard
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || (fields[1] != "r-xp" && fields[1] != "r--p") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		spans = append(spans, span{uintptr(start), uintptr(end)})
	}
	var n int64
	for _, s := range spans {
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, s.start, s.end-s.start, syscall.MADV_DONTNEED); errno == 0 {
			n += int64(s.end - s.start)
		}
	}
	return n
}
