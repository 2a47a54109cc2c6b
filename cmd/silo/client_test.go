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
		{"uploads", "complete", "upload_x"},                                                // no --part-id
		{"uploads", "cancel"},                                                              // no id
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

// TestClient_Suggestions suggests the nearest command for a typo, as the
// official CLI does, and still exits 2 with usage on stderr.
func TestClient_Suggestions(t *testing.T) {
	c := newCLI(t, "http://127.0.0.1:1/v1") // never reached
	for typo, want := range map[string]string{
		"files lst":            "Did you mean 'silo files list'?",
		"files retreive x":     "Did you mean 'silo files retrieve'?",
		"fils list":            "Did you mean 'silo files'?",
		"uplod a.bin":          "Did you mean 'silo upload'?",
		"uploads:part create":  "Did you mean 'silo uploads:parts'?",
		"uploads cancle x":     "Did you mean 'silo uploads cancel'?",
		"serv":                 "Did you mean 'silo serve'?",
		"frobnicate":           "",
		"files zzzzzzzzzzzzzz": "",
	} {
		r := c.run(strings.Fields(typo)...)
		if r.code != 2 || !strings.Contains(r.stderr, "Usage:") {
			t.Errorf("silo %s: exit %d, stderr %q; want 2 and usage", typo, r.code, r.stderr)
		}
		first, _, _ := strings.Cut(r.stderr, "\n")
		if want == "" && strings.Contains(first, "Did you mean") || want != "" && !strings.HasSuffix(first, want) {
			t.Errorf("silo %s: %q, want it to end with %q", typo, first, want)
		}
	}
}

// TestClient_ErrorOutput prints the server's error object on stdout as it was
// sent and the same facts on stderr; a server that is not there, or a base URL
// without /v1, gets a hint that says what to do.
func TestClient_ErrorOutput(t *testing.T) {
	base := startServer(t)
	c := newCLI(t, base)
	r := c.run("files", "retrieve", "file-nope")
	e := object(t, r.stdout)["error"].(map[string]any)
	if r.code != 1 || e["code"] != nil || e["param"] != "file_id" || e["type"] != "invalid_request_error" {
		t.Errorf("not found: exit %d, stdout %s", r.code, r.stdout)
	}
	if want := "Error: " + e["message"].(string) + " (status 404, param file_id)\n"; r.stderr != want {
		t.Errorf("not found: stderr %q, want %q", r.stderr, want)
	}
	id := object(t, c.mustRun("uploads", "create", "--bytes", "1", "--filename", "x.csv", "--mime-type", "text/csv", "--purpose", "user_data").stdout)["id"].(string)
	r = c.run("uploads", "complete", id, "--part-id", "part_nope")
	e = object(t, r.stdout)["error"].(map[string]any)
	if r.code != 1 || e["code"] != "part_not_found" || !strings.Contains(r.stderr, "(status 400, code part_not_found, param part_ids)") {
		t.Errorf("unknown part: exit %d, stdout %s, stderr %q", r.code, r.stdout, r.stderr)
	}

	r = c.run("--base-url", strings.TrimSuffix(base, "/v1"), "files", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "Hint: the base URL "+strings.TrimSuffix(base, "/v1")+" usually ends in /v1") {
		t.Errorf("base URL without /v1: exit %d, stderr %q", r.code, r.stderr)
	}
	r = c.run("files", "list", "--purpose", "batch_output")
	if r.code != 0 || strings.Contains(r.stderr, "Hint") {
		t.Errorf("a good base URL: exit %d, stderr %q", r.code, r.stderr)
	}

	dead := newCLI(t, "http://127.0.0.1:1/v1")
	r = dead.run("files", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "the server at http://127.0.0.1:1/v1 is not reachable (connection refused)") ||
		!strings.Contains(r.stderr, "--base-url") || strings.Contains(r.stderr, "dial tcp") {
		t.Errorf("refused connection: exit %d, stderr %q", r.code, r.stderr)
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
