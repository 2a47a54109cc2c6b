package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/silo-dev/silo/internal/procstat"
)

// child is a server the benchmark runs as a child process, so that its memory
// and CPU time can be read from /proc apart from the client's.
type child struct {
	name    string
	cmd     *exec.Cmd
	baseURL string // http://127.0.0.1:PORT
	debug   string // http://127.0.0.1:PORT of silo's pprof listener, or ""
	log     *os.File
	exited  chan struct{}
}

// startChild runs bin with args, its stderr to logPath, and waits for the
// first line of stdout that holds "http://", which names its address.
func startChild(ctx context.Context, name, bin, logPath string, args ...string) (*child, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logf, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(c.exited)
	}()
	line := make(chan string, 1)
	go func() {
		br := bufio.NewReader(out)
		l, _ := br.ReadString('\n')
		line <- l
		io.Copy(io.Discard, br)
	}()
	select {
	case l := <-line:
		i := strings.Index(l, "http://")
		if i < 0 {
			c.stop()
			return nil, fmt.Errorf("%s printed %q, not its address; see %s", name, l, logPath)
		}
		c.baseURL = strings.TrimSuffix(strings.TrimSpace(l[i:]), "/v1")
	case <-time.After(30 * time.Second):
		c.stop()
		return nil, fmt.Errorf("%s did not start in 30s; see %s", name, logPath)
	case <-ctx.Done():
		c.stop()
		return nil, ctx.Err()
	}
	return c, c.waitHealthy(ctx)
}

// waitHealthy polls GET /healthz until it answers 200, for at most 30s.
func (c *child) waitHealthy(ctx context.Context) error {
	for range 300 {
		req, _ := http.NewRequestWithContext(ctx, "GET", c.baseURL+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.exited:
			return fmt.Errorf("%s exited; see %s", c.name, c.log.Name())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s never answered /healthz", c.name)
}

// stop asks the child to shut down and kills it if it does not within 10s.
func (c *child) stop() {
	if c == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
	c.log.Close()
}

// status returns a field of /proc/PID/status in bytes (VmHWM, VmRSS).
func (c *child) status(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}

// peakRSS is the child's VmHWM: its peak resident memory since it started or
// since resetPeak.
func (c *child) peakRSS() int64 { return c.status("VmHWM") }

// resetPeak sets VmHWM back to the current RSS (Linux 4.0+).
func (c *child) resetPeak() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", c.cmd.Process.Pid), []byte("5"), 0)
}

// cpu returns the user and system CPU time the child has used so far.
func (c *child) cpu() time.Duration { return procstat.CPU(c.cmd.Process.Pid) }

// waitQuiet returns once the child is idle (procstat.WaitIdle): work it does
// after answering (hashing, write-back) is over.
func (c *child) waitQuiet(ctx context.Context) { procstat.WaitIdle(ctx, c.cmd.Process.Pid) }

// freeAddr returns a loopback address with a port free at the moment.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// buildSilo builds cmd/silo of the module in the current directory into dir.
func buildSilo(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "bin", "silo")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/silo-dev/silo/cmd/silo")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/silo (run silo-bench from the repository, or give --silo): %w", err)
	}
	return bin, nil
}

// startSilo runs `silo serve` on the data dir with a pprof listener and the
// extra flags given.
func startSilo(ctx context.Context, bin, data string, extra ...string) (*child, error) {
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	debug, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// No grace for garbage: the blobs of what a measurement cancelled or
	// deleted go at the next reaper round, so that settle can wait for them.
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--debug-addr", debug,
		"--reap-interval", "1s", "--garbage-grace", "0s"}, extra...)
	c, err := startChild(ctx, "silo", bin, data+".log", args...)
	if err != nil {
		return nil, err
	}
	c.debug = "http://" + debug
	return c, nil
}

// startSinkChild runs this program's sink on dir; plain makes it copy with
// io.Copy instead of large writes.
func startSinkChild(ctx context.Context, dir string, plain bool) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	args := []string{sinkCommand, "-dir", dir}
	if plain {
		args = append(args, "-plain")
	}
	return startChild(ctx, "sink", self, dir+".log", args...)
}
