package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
)

// TestServe_RefusesOpenAddressWithoutKeys: with no key configured the server
// must not listen beyond loopback.
func TestServe_RefusesOpenAddressWithoutKeys(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"serve", "--addr", "0.0.0.0:0", "--data", t.TempDir()},
		func(string) string { return "" }, strings.NewReader(""), io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "no API key") {
		t.Fatalf("got %v, want a refusal to listen on 0.0.0.0 with no API key", err)
	}
}

// TestServe_KeysFileAndEnvironment: keys come from --api-keys-file and flags
// from SILO_* variables.
func TestServe_KeysFileAndEnvironment(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keys, []byte("# keys\nsk-file=proj_f\n\nsk-bare\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startSilo(t, "", map[string]string{"SILO_API_KEYS_FILE": keys, "SILO_UPLOAD_TTL": "2h"})
	ctx := context.Background()
	u, err := s.client("sk-file").Uploads.New(ctx, openai.UploadNewParams{Bytes: 1, Filename: "f", MimeType: "a/b", Purpose: "user_data"})
	fatalIf(t, err)
	if u.ExpiresAt != u.CreatedAt+7200 {
		t.Fatalf("SILO_UPLOAD_TTL=2h: expires_at - created_at = %d, want 7200", u.ExpiresAt-u.CreatedAt)
	}
	_, err = s.client("sk-bare").Uploads.Cancel(ctx, u.ID)
	wantAPIError(t, err, 404, "invalid_request_error", "", "upload_id")
	_, err = s.client("sk-other").Uploads.Cancel(ctx, u.ID)
	wantAPIError(t, err, 401, "invalid_request_error", "invalid_api_key", "")
}

// TestServe_GracefulShutdown: a part still streaming in when the server is
// told to stop is finished and acknowledged; new connections are refused.
func TestServe_GracefulShutdown(t *testing.T) {
	s := startSilo(t, "", nil)
	c := s.client("k")
	ctx := context.Background()
	u, err := c.Uploads.New(ctx, openai.UploadNewParams{Bytes: 2 << 20, Filename: "f", MimeType: "a/b", Purpose: "user_data"})
	fatalIf(t, err)

	part := startPart(t, http.DefaultClient, s.BaseURL, "k", u.ID)
	part.Data.Write(make([]byte, 1<<20))
	// The server has the request once it writes the part's bytes.
	for i := 0; countTemp(t, s.Data) == 0; i++ {
		if i == 500 {
			t.Fatal("the server never began writing the part")
		}
		time.Sleep(10 * time.Millisecond)
	}

	stopped := make(chan struct{})
	go func() { s.stop(); close(stopped) }()
	time.Sleep(200 * time.Millisecond) // let the shutdown begin while the body is still open
	part.Data.Write(make([]byte, 1<<20))
	if code := part.finish(); code != 200 {
		t.Fatalf("part in flight during shutdown: status %d, want 200", code)
	}
	<-stopped
	if _, err := http.Get(s.BaseURL + "/files"); err == nil {
		t.Fatal("the server still answers after shutdown")
	}
}

// TestServe_RefusesBadDurations: a zero or negative interval is a usage error,
// not a crash.
func TestServe_RefusesBadDurations(t *testing.T) {
	for _, args := range [][]string{
		{"--reap-interval", "0s"}, {"--upload-ttl", "-1s"}, {"--garbage-grace", "-1m"},
		{"--sweep-interval", "0s"}, {"--orphan-grace", "-1m"},
	} {
		err := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, args...),
			func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
		if exitCode(err) != 2 {
			t.Errorf("serve %v: got %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}
