package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startSignalled runs `silo serve` in a child process on the data dir, like
// startProcess, with extra environment, for tests that send it signals. hc is the client
// that reaches it (one that trusts its certificate, for TLS).
func startSignalled(t *testing.T, data string, env map[string]string, hc *http.Client, flags ...string) *process {
	t.Helper()
	return launch(t, serveCmd("", data, env, flags...), hc)
}

// signal sends sig to the server.
func (p *process) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// hangup sends SIGHUP and waits until the server has logged the reload of
// the keys (whether it kept them or not): the want-th such line.
func (p *process) hangup(t *testing.T, want int) {
	t.Helper()
	p.signal(t, syscall.SIGHUP)
	waitFor(t, "the reload after SIGHUP", p.stderr.String, func(log string) bool {
		return strings.Count(log, "SIGHUP: API keys") >= want
	})
}

// stopGracefully sends SIGTERM and wants a clean exit.
func (p *process) stopGracefully(t *testing.T) {
	t.Helper()
	p.signal(t, syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("silo serve after SIGTERM: %v\n%s", err, p.stderr.String())
	}
}

// waitFor polls get until ok holds, at most about 10 s.
func waitFor(t *testing.T, what string, get func() string, ok func(string) bool) {
	t.Helper()
	for range 1000 {
		if ok(get()) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("waited in vain for %s; last:\n%s", what, get())
}

// status sends an authenticated request and returns its status code.
func status(t *testing.T, hc *http.Client, method, url, key string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// runCLI runs silo in this process with the environment env and stdin.
func runCLI(env map[string]string, stdin string, args ...string) cliResult {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &stdout, &stderr)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), code: exitCode(err)}
}
