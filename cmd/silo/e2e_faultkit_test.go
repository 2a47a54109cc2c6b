package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// minioServer is a MinIO process of a test's own, which the test may stop
// and start again on the same address and data.
type minioServer struct {
	bin, dir, addr string
	Endpoint       string
	cmd            *exec.Cmd
	log            *syncBuffer
}

// startMinio starts MinIO from SILO_TEST_MINIO_BIN on a free loopback port,
// with the credentials of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and
// stops it when the test ends; it skips the test without them.
func startMinio(t *testing.T) *minioServer {
	t.Helper()
	bin := os.Getenv("SILO_TEST_MINIO_BIN")
	if bin == "" || os.Getenv("AWS_ACCESS_KEY_ID") == "" || os.Getenv("AWS_SECRET_ACCESS_KEY") == "" {
		t.Skip("SILO_TEST_MINIO_BIN, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are needed to start a MinIO of the test's own (.ci/run sets them)")
	}
	m := &minioServer{bin: bin, dir: t.TempDir(), addr: freeAddr(t)}
	m.Endpoint = "http://" + m.addr
	m.start(t)
	t.Cleanup(m.stop)
	return m
}

// start runs MinIO and waits until it is ready.
func (m *minioServer) start(t *testing.T) {
	t.Helper()
	m.log = &syncBuffer{}
	m.cmd = exec.Command(m.bin, "server", "--quiet", "--address", m.addr, "--console-address", freeAddr(t), m.dir)
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // gone with the test binary, even after a timeout
	m.cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+os.Getenv("AWS_ACCESS_KEY_ID"),
		"MINIO_ROOT_PASSWORD="+os.Getenv("AWS_SECRET_ACCESS_KEY"),
		"MINIO_BROWSER=off")
	m.cmd.Stdout, m.cmd.Stderr = m.log, m.log
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("starting MinIO: %v", err)
	}
	for i := 0; ; i++ {
		resp, err := http.Get(m.Endpoint + "/minio/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if i == 300 {
			t.Fatalf("MinIO never became ready at %s\n%s", m.addr, m.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop SIGKILLs MinIO, as a crash or a pulled plug would stop it.
func (m *minioServer) stop() {
	if m.cmd != nil && m.cmd.ProcessState == nil {
		m.cmd.Process.Signal(syscall.SIGKILL)
		m.cmd.Wait()
	}
}

// partRequest returns a request that adds a part of data to the upload.
func partRequest(t *testing.T, baseURL, uploadID string, data []byte) *http.Request {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile("data", "part.bin")
	w.Write(data)
	mw.Close()
	req, err := http.NewRequest("POST", baseURL+"/uploads/"+uploadID+"/parts", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk-test")
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return req
}

// do sends req and returns the status, the Retry-After header and the body.
func do(t *testing.T, req *http.Request) (int, string, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), b
}

// want503 fails the test unless the answer is a 503 with Retry-After and the
// spec's error body: all four keys, type server_error, code
// service_unavailable, param null, and a message.
func want503(t *testing.T, what string, status int, retryAfter string, body []byte) {
	t.Helper()
	var env struct {
		Error map[string]any `json:"error"`
	}
	if status != 503 || retryAfter == "" {
		t.Errorf("%s: status %d, Retry-After %q; want 503 with Retry-After (%s)", what, status, retryAfter, body)
		return
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Error) != 4 {
		t.Errorf("%s: body %s; want the error envelope with four keys", what, body)
		return
	}
	msg, _ := env.Error["message"].(string)
	if env.Error["type"] != "server_error" || env.Error["code"] != "service_unavailable" || env.Error["param"] != nil || msg == "" {
		t.Errorf("%s: error %v; want type server_error, code service_unavailable, param null and a message", what, env.Error)
	}
}

// getRequest returns an authorized GET of the path under baseURL.
func getRequest(t *testing.T, baseURL, path string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", baseURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk-test")
	return req
}
