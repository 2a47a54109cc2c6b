// Package procstat reads the CPU time of processes, for the benchmarks
// (cmd/silo-bench, the s3 store's TestPutBench), which report CPU seconds per
// GiB of each side.
package procstat

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ticks is USER_HZ on Linux, the unit of the times in /proc/PID/stat.
const ticks = 100

// CPU returns the user and system CPU time process pid has used so far, from
// /proc/PID/stat; 0 if unknown (pid ≤ 0, no such process, not Linux).
func CPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which may hold spaces, in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / ticks
}

// Self returns the user and system CPU time this process has used so far.
func Self() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// WaitIdle returns once process pid has used at most 20 ms of CPU in 250 ms
// (its work after answering — hashing, write-back — is over), after 30 s,
// or when ctx ends.
func WaitIdle(ctx context.Context, pid int) {
	if pid <= 0 {
		return
	}
	for range 120 {
		c0 := CPU(pid)
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
		if CPU(pid)-c0 <= 20*time.Millisecond {
			return
		}
	}
}
