package procstat

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// TestCPU: this process's CPU time grows with work, read both ways; an
// unknown process has none.
func TestCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	p0, s0 := CPU(os.Getpid()), Self()
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
	}
	p1, s1 := CPU(os.Getpid()), Self()
	if p1 <= p0 || s1 <= s0 {
		t.Errorf("after 300 ms of work: /proc says %v → %v, getrusage %v → %v", p0, p1, s0, s1)
	}
	if CPU(-1) != 0 || CPU(1<<30) != 0 {
		t.Error("CPU of no process is not 0")
	}
}
