package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	shttp "github.com/silo-dev/silo/http"
)

// TestServe_KeysReloadOnSIGHUP: SIGHUP re-reads --api-keys-file. A key added
// (here as its sha256: line) works at once, a removed key stops at once, a
// part in flight under the removed key still finishes, and a malformed file
// keeps the keys in use and says which line is wrong.
func TestServe_KeysReloadOnSIGHUP(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	writeFile(t, keys, "sk-old=proj_a\n")
	hc := http.DefaultClient
	data := t.TempDir()
	s := startSignalled(t, data, map[string]string{"SILO_API_KEYS_FILE": keys, "SILO_API_KEYS": "sk-env=proj_e"}, hc)
	files := s.BaseURL + "/files"
	for key, want := range map[string]int{"sk-old": 200, "sk-env": 200, "sk-new": 401} {
		if got := status(t, hc, "GET", files, key); got != want {
			t.Fatalf("before SIGHUP, key %s: status %d, want %d", key, got, want)
		}
	}

	// A part under sk-old, still streaming when sk-old goes.
	u, err := s.client(option.WithAPIKey("sk-old")).Uploads.New(context.Background(),
		openai.UploadNewParams{Bytes: 2 << 20, Filename: "f", MimeType: "a/b", Purpose: "user_data"})
	fatalIf(t, err)
	id := u.ID
	part := startPart(t, hc, s.BaseURL, "sk-old", id)
	part.Data.Write(make([]byte, 1<<20))
	waitFor(t, "the server to begin writing the part", func() string { return "" }, func(string) bool { return countTemp(t, data) > 0 })

	writeFile(t, keys, "# sk-old is gone; sk-new is here by its digest\n"+shttp.HashKey("sk-new")+"=proj_a\n")
	s.hangup(t, 1)
	for key, want := range map[string]int{"sk-old": 401, "sk-env": 200, "sk-new": 200} {
		if got := status(t, hc, "GET", files, key); got != want {
			t.Errorf("after SIGHUP, key %s: status %d, want %d", key, got, want)
		}
	}
	part.Data.Write(make([]byte, 1<<20))
	if code := part.finish(); code != 200 {
		t.Errorf("part in flight under the removed key: status %d, want 200", code)
	}
	// proj_a's upload is sk-new's now.
	if got := status(t, hc, "POST", s.BaseURL+"/uploads/"+id+"/cancel", "sk-new"); got != 200 {
		t.Errorf("cancel with sk-new of proj_a: status %d, want 200", got)
	}

	writeFile(t, keys, hashTypo+"\nsk-third\n")
	s.hangup(t, 2)
	if log := s.stderr.String(); !strings.Contains(log, "API keys not reloaded") || !strings.Contains(log, keys+" line 1") {
		t.Errorf("a malformed keys file: the log does not say why or where:\n%s", log)
	}
	for key, want := range map[string]int{"sk-old": 401, "sk-new": 200, "sk-third": 401} {
		if got := status(t, hc, "GET", files, key); got != want {
			t.Errorf("after a malformed reload, key %s: status %d, want %d", key, got, want)
		}
	}
	s.stopGracefully(t)
}

// hashTypo is a sha256: line with a digit missing.
var hashTypo = shttp.HashKey("sk-x")[:70]

// TestServe_MalformedKeysFileAtStart: silo serve refuses to start, naming the line.
func TestServe_MalformedKeysFileAtStart(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	writeFile(t, keys, "sk-a=proj\nsk b\n")
	r := runCLI(nil, "", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--api-keys-file", keys)
	if r.code != 1 || !strings.Contains(r.stderr, keys+" line 2: the key holds a space") {
		t.Fatalf("exit %d, stderr %q; want 1 and the line named", r.code, r.stderr)
	}
}

// TestKeysHash: silo keys hash prints the line that admits the key on stdin.
func TestKeysHash(t *testing.T) {
	r := runCLI(nil, "sk-a\n", "keys", "hash", "--project", "proj_a")
	want := "sha256:a4a6d307ad00fa67176e1099fdbc4f4a09bb527a7f24718a5030f2f173d11f7f=proj_a\n" // printf sk-a | sha256sum
	if r.code != 0 || r.stdout != want {
		t.Fatalf("keys hash: exit %d, stdout %q, want %q (stderr %s)", r.code, r.stdout, want, r.stderr)
	}
	if r := runCLI(nil, "\n", "keys", "hash"); r.code != 2 {
		t.Errorf("keys hash of nothing: exit %d, want 2", r.code)
	}
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
