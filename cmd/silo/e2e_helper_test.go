package main

import (
	"bufio"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// TestMain lets a test run this binary's main in a child process (the crash
// test SIGKILLs it): with SILO_TEST_MAIN=1 the test binary is silo itself.
func TestMain(m *testing.M) {
	if os.Getenv("SILO_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// silo is a server started by a test.
type siloServer struct {
	BaseURL string
	Data    string
	stderr  *syncBuffer
	stop    func()
}

// syncBuffer collects a server's log for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startSilo runs `silo serve` in this process through run, on a free loopback
// port, with the data dir data ("" for a new temp dir), extra flags and
// environment, and stops it when the test ends.
func startSilo(t *testing.T, data string, env map[string]string, flags ...string) *siloServer {
	t.Helper()
	if data == "" {
		data = t.TempDir()
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data}, flags...)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &siloServer{Data: data, stderr: &syncBuffer{}}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), pw, s.stderr)
		pw.Close()
	}()
	s.BaseURL = readBaseURL(t, pr, func() string { return s.stderr.String() })
	go io.Copy(io.Discard, pr)
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("silo serve: %v\n%s", err, s.stderr.String())
			}
		})
	}
	t.Cleanup(s.stop)
	waitHealthy(t, s.BaseURL)
	return s
}

// readBaseURL reads the server's first line of output, which gives its base URL.
func readBaseURL(t *testing.T, r io.Reader, logs func() string) string {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(r).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		i := strings.Index(l, "http") // http:// or https://
		if i < 0 {
			t.Fatalf("silo serve printed %q, want its base URL\n%s", l, logs())
		}
		return strings.TrimSpace(l[i:])
	case <-time.After(30 * time.Second):
		t.Fatalf("silo serve did not start\n%s", logs())
	}
	return ""
}

func waitHealthy(t *testing.T, baseURL string) {
	t.Helper()
	url := strings.TrimSuffix(baseURL, "/v1") + "/healthz"
	for range 100 {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never answered 200", url)
}

// client returns an official openai-go client of the server, with the key.
func (s *siloServer) client(key string, opts ...option.RequestOption) *openai.Client {
	c := openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(s.BaseURL), option.WithAPIKey(key), option.WithMaxRetries(0),
	}, opts...)...)
	return &c
}

// process is a silo server in a child process, which a test may SIGKILL.
type process struct {
	BaseURL string
	cmd     *exec.Cmd
	stderr  *syncBuffer
}

// startProcess runs `silo serve` in a child process on the data dir.
func startProcess(t *testing.T, data string, flags ...string) *process {
	t.Helper()
	return launch(t, serveCmd("", data, nil, flags...), http.DefaultClient)
}

// serveCmd is `bin serve` on a free loopback port and the data dir, with
// extra environment and flags; bin "" is this test binary acting as silo.
func serveCmd(bin, data string, env map[string]string, flags ...string) *exec.Cmd {
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data}, flags...)
	environ := os.Environ()
	if bin == "" {
		bin, environ = os.Args[0], append(environ, "SILO_TEST_MAIN=1")
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = environ
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// launch starts cmd, a `silo serve` that prints its base URL first, and
// waits until it answers /healthz through hc; it is killed when the test ends.
func launch(t *testing.T, cmd *exec.Cmd, hc *http.Client) *process {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // gone with the test binary, even after a timeout
	p := &process{cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	p.BaseURL = readBaseURL(t, out, p.stderr.String)
	go io.Copy(io.Discard, out)
	for i := 0; ; i++ {
		resp, err := hc.Get(strings.TrimSuffix(p.BaseURL, "/v1") + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i == 100 {
			t.Fatalf("%s never answered /healthz: %v\n%s", p.BaseURL, err, p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return p
}

// kill SIGKILLs the server and waits for it to be gone.
func (p *process) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

func (p *process) client(opts ...option.RequestOption) *openai.Client {
	c := openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(p.BaseURL), option.WithAPIKey("sk-test"), option.WithMaxRetries(0),
	}, opts...)...)
	return &c
}

func fatalIf(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func pseudoRandom(n int, seed uint32) []byte {
	b := make([]byte, n)
	x := seed + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

// streamedPart is a part request whose body the test writes as it goes.
type streamedPart struct {
	Data     io.Writer // the data field
	mw       *multipart.Writer
	pw       *io.PipeWriter
	answered chan int
}

// startPart sends a part of uploadID to baseURL through hc, with the body
// left open: the test writes Data, then finish ends the body.
func startPart(t *testing.T, hc *http.Client, baseURL, key, uploadID string) *streamedPart {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	req, err := http.NewRequest("POST", baseURL+"/uploads/"+uploadID+"/parts", pr)
	fatalIf(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	p := &streamedPart{mw: mw, pw: pw, answered: make(chan int, 1)}
	go func() {
		resp, err := hc.Do(req)
		if err != nil {
			p.answered <- 0
			return
		}
		resp.Body.Close()
		p.answered <- resp.StatusCode
	}()
	p.Data, err = mw.CreateFormFile("data", "p.bin")
	fatalIf(t, err)
	return p
}

// finish ends the body and returns the status of the answer (0: none).
func (p *streamedPart) finish() int {
	p.mw.Close()
	p.pw.Close()
	return <-p.answered
}
