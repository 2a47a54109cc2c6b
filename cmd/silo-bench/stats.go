package main

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// series is the figures of repeated runs.
type series []float64

// median returns the middle figure (the mean of the two middle ones for an
// even count), or 0 for none.
func (s series) median() float64 {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

// spread returns the lowest and highest figure.
func (s series) spread() (float64, float64) {
	if len(s) == 0 {
		return 0, 0
	}
	return slices.Min(s), slices.Max(s)
}

// latencies summarizes request latencies, in milliseconds.
type latencies struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func summarize(d []time.Duration) latencies {
	if len(d) == 0 {
		return latencies{}
	}
	c := slices.Clone(d)
	slices.Sort(c)
	at := func(q float64) float64 { return ms(c[min(len(c)-1, int(q*float64(len(c))))]) }
	return latencies{N: len(c), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: ms(c[len(c)-1])}
}

// machine describes where the figures were taken, and how busy it was.
type machine struct {
	CPUs       int    `json:"cpus"`
	Kernel     string `json:"kernel"`
	Go         string `json:"go"`
	Disk       string `json:"disk"`
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
	Started    string `json:"started"`
}

func machineInfo(dir string) machine {
	m := machine{
		CPUs:       runtime.NumCPU(),
		Go:         runtime.Version(),
		LoadBefore: loadAverage(),
		Started:    time.Now().UTC().Format(time.RFC3339),
	}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		m.Kernel = utsString(u.Release[:])
	}
	if out, err := exec.Command("df", "-hT", dir).Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if f := strings.Fields(lines[len(lines)-1]); len(f) >= 7 {
			m.Disk = f[0] + " " + f[1] + ", " + f[4] + " free, mounted on " + f[6]
		}
	}
	return m
}

func utsString(b []int8) string {
	var s strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		s.WriteByte(byte(c))
	}
	return s.String()
}

// loadAverage returns the 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
