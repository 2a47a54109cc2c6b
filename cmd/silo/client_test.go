package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// object decodes one JSON object printed by a command.
func object(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, s)
	}
	return m
}

// objects decodes the JSON objects printed one after the other.
func objects(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	d := json.NewDecoder(strings.NewReader(s))
	for d.More() {
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatalf("output is not a stream of JSON objects: %v\n%s", err, s)
		}
		out = append(out, m)
	}
	return out
}

// hasKeys fails unless m has exactly the keys.
func hasKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("%s keys: got %v, want %v", what, got, keys)
	}
}

var (
	uploadKeys = []string{"id", "object", "bytes", "created_at", "expires_at", "filename", "purpose", "status", "file"}
	fileKeys   = []string{"id", "object", "bytes", "created_at", "filename", "purpose", "status", "expires_at", "status_details"}
)

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestClient_Uploads drives the low-level upload commands in the official
// CLI's grammar: create, two parts, complete with the parts in an order given
// by repeated --part-id, then reads the File back.
func TestClient_Uploads(t *testing.T) {
	c := newCLI(t, startServer(t))
	a, b := []byte("hello, "), []byte("world\n")
	pa, pb := writeTemp(t, "a", a), writeTemp(t, "b", b)

	r := c.mustRun("uploads", "create", "--bytes", "13", "--filename", "hello.txt", "--mime-type", "text/plain", "--purpose", "user_data")
	if !strings.HasPrefix(r.stdout, "{\n  \"id\": ") {
		t.Errorf("output is not 2-space-indented JSON:\n%s", r.stdout)
	}
	up := object(t, r.stdout)
	hasKeys(t, "upload", up, uploadKeys...)
	if up["status"] != "pending" || up["file"] != nil || up["object"] != "upload" || up["bytes"] != 13.0 {
		t.Errorf("created upload: %v", up)
	}
	id := up["id"].(string)

	// The second part is sent first, with the upload id given positionally.
	p2 := object(t, c.mustRun("uploads:parts", "create", id, "--data", pb).stdout)
	p1 := object(t, c.mustRun("uploads:parts", "create", "--upload-id", id, "--data", pa).stdout)
	hasKeys(t, "part", p1, "id", "object", "created_at", "upload_id")
	if p1["object"] != "upload.part" || p1["upload_id"] != id {
		t.Errorf("part: %v", p1)
	}

	done := object(t, c.mustRun("uploads", "complete", "--upload-id", id,
		"--part-id", p1["id"].(string), "--part-id", p2["id"].(string)).stdout)
	if done["status"] != "completed" {
		t.Fatalf("completed upload: %v", done)
	}
	f := done["file"].(map[string]any)
	hasKeys(t, "file", f, fileKeys...)
	if got := c.mustRun("files", "content", f["id"].(string)).stdout; got != "hello, world\n" {
		t.Errorf("content: got %q, want %q", got, "hello, world\n")
	}

	// Completing again with the same parts is idempotent.
	again := object(t, c.mustRun("uploads", "complete", id, "--part-id", p1["id"].(string), "--part-id", p2["id"].(string)).stdout)
	if again["file"].(map[string]any)["id"] != f["id"] {
		t.Errorf("complete again gave another file: %v", again)
	}
}

// TestClient_UploadsCancel cancels an upload, and a part sent after that is
// an API error: its error object on stdout, a summary on stderr, exit 1.
func TestClient_UploadsCancel(t *testing.T) {
	c := newCLI(t, startServer(t))
	id := object(t, c.mustRun("uploads", "create", "--bytes", "1", "--filename", "x", "--mime-type", "text/plain", "--purpose", "user_data").stdout)["id"].(string)
	up := object(t, c.mustRun("uploads", "cancel", id).stdout)
	if up["status"] != "cancelled" {
		t.Errorf("cancelled upload: %v", up)
	}
	r := c.run("uploads:parts", "create", id, "--data", writeTemp(t, "x", []byte("x")))
	if r.code != 1 {
		t.Fatalf("part on a cancelled upload: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	e := object(t, r.stdout)["error"].(map[string]any)
	hasKeys(t, "error", e, "message", "type", "param", "code")
	if e["code"] != "upload_cancelled" || e["type"] != "invalid_request_error" {
		t.Errorf("error object: %v", e)
	}
	if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "upload_cancelled") {
		t.Errorf("stderr: want one line naming the code, got %q", r.stderr)
	}
}

// TestClient_Files creates, retrieves, lists (paging), reads and deletes files.
func TestClient_Files(t *testing.T) {
	c := newCLI(t, startServer(t))
	data := testData(100_000, 1)
	path := writeTemp(t, "data.bin", data)
	var ids []string
	for range 3 {
		f := object(t, c.mustRun("files", "create", "--file", path, "--purpose", "assistants").stdout)
		hasKeys(t, "file", f, fileKeys...)
		if f["filename"] != "data.bin" || f["bytes"] != float64(len(data)) || f["status"] != "processed" || f["expires_at"] != nil {
			t.Errorf("created file: %v", f)
		}
		ids = append(ids, f["id"].(string))
	}
	batch := object(t, c.mustRun("files", "create", "--file", path, "--purpose", "user_data", "--expires-after.seconds", "7200").stdout)
	if batch["expires_at"] != batch["created_at"].(float64)+7200 {
		t.Errorf("file with expires_after: %v", batch)
	}

	got := object(t, c.mustRun("files", "retrieve", "--file-id", ids[1]).stdout)
	if got["id"] != ids[1] {
		t.Errorf("retrieve: %v", got)
	}

	// Pages of one file each, all of them, in creation order.
	list := objects(t, c.mustRun("files", "list", "--purpose", "assistants", "--limit", "1", "--order", "asc").stdout)
	var listed []string
	for _, f := range list {
		listed = append(listed, f["id"].(string))
	}
	if !slices.Equal(listed, ids) {
		t.Errorf("list: got %v, want %v", listed, ids)
	}
	if n := len(objects(t, c.mustRun("files", "list", "--max-items", "2").stdout)); n != 2 {
		t.Errorf("list --max-items 2: got %d files", n)
	}

	out := filepath.Join(t.TempDir(), "out.bin")
	r := c.mustRun("files", "content", ids[0], "--output", out)
	if b, err := os.ReadFile(out); err != nil || string(b) != string(data) {
		t.Errorf("content --output: the file differs (%v)", err)
	}
	if r.stdout != "" {
		t.Errorf("content --output wrote on stdout: %q", r.stdout)
	}

	del := object(t, c.mustRun("files", "delete", ids[2]).stdout)
	hasKeys(t, "deleted", del, "id", "object", "deleted")
	if del["deleted"] != true || del["id"] != ids[2] {
		t.Errorf("delete: %v", del)
	}
	r = c.run("files", "retrieve", ids[2])
	if r.code != 1 || object(t, r.stdout)["error"].(map[string]any)["param"] != "file_id" {
		t.Errorf("retrieve deleted file: exit %d\n%s", r.code, r.stdout)
	}
}

// TestClient_Formats prints the same object as jsonl and pretty.
func TestClient_Formats(t *testing.T) {
	c := newCLI(t, startServer(t))
	path := writeTemp(t, "f.txt", []byte("abc"))
	id := object(t, c.mustRun("files", "create", "--file", path, "--purpose", "user_data").stdout)["id"].(string)

	r := c.mustRun("--format", "jsonl", "files", "retrieve", id)
	if strings.Count(r.stdout, "\n") != 1 || object(t, r.stdout)["id"] != id {
		t.Errorf("jsonl: %q", r.stdout)
	}
	r = c.mustRun("files", "retrieve", id, "--format", "pretty")
	if !strings.HasPrefix(r.stdout, "files retrieve\n") || !strings.Contains(r.stdout, "  id: "+id+"\n") ||
		!strings.Contains(r.stdout, "  expires_at: null\n") {
		t.Errorf("pretty:\n%s", r.stdout)
	}
}

// TestClient_Usage checks that command lines the CLI does not understand exit
// with 2 and print help on stderr, and nothing on stdout.
func TestClient_Usage(t *testing.T) {
	c := newCLI(t, "http://127.0.0.1:1/v1") // never reached
	for _, args := range [][]string{
		{"uploads", "create", "--bytes", "1", "--filename", "x", "--purpose", "user_data"}, // no --mime-type
		{"uploads", "complete", "upload_x"},                                            // no --part-id
		{"uploads", "cancel"},                                                          // no id
		{"uploads", "cancel", "upload_x", "extra"},
		{"uploads", "frobnicate"},
		{"uploads"},
		{"files", "retrieve", "--file-id", "a", "b"},
		{"files", "list", "--limit", "many"},
		{"files", "list", "--format", "yaml"},
		{"files", "create", "--purpose", "user_data"},
		{"files", "nope"},
		{"frobnicate"},
		{"upload"},
		{"upload", "a", "--purpose", "user_data", "--part-size", "65MiB"},
		{"upload", "a", "--purpose", "user_data", "--parallel", "0"},
		{"upload", "a"},
	} {
		r := c.run(args...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "Usage:") {
			t.Errorf("silo %s: exit %d, stdout %q, stderr %q; want exit 2 and help on stderr",
				strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
}

// TestClient_Environment takes the base URL and key from the environment,
// and the flags over it.
func TestClient_Environment(t *testing.T) {
	c := newCLI(t, "http://127.0.0.1:1/v1") // refuses connections
	r := c.run("files", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "127.0.0.1:1") {
		t.Errorf("unreachable server: exit %d, stderr %q", r.code, r.stderr)
	}
	base := startServer(t)
	r = c.run("--base-url", base, "files", "list")
	if r.code != 0 {
		t.Errorf("--base-url over OPENAI_BASE_URL: exit %d, stderr %q", r.code, r.stderr)
	}
}
