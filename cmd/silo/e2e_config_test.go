package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
)

// TestServe_ConfigPrecedence: a flag wins over its SILO_* variable, which
// wins over the --config file, which wins over the default; --print-config
// says which gave each value.
func TestServe_ConfigPrecedence(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "silo.yaml")
	writeFile(t, cfg, `# every server flag by its name
upload-ttl: 3h
garbage-grace: 5m
shutdown-wait: 7s
md5-on-arrival: false
`)
	env := map[string]string{"SILO_GARBAGE_GRACE": "6m", "SILO_SHUTDOWN_WAIT": "8s", "SILO_CONFIG": cfg}
	r := runCLI(env, "", "serve", "--print-config", "--shutdown-wait", "9s")
	if r.code != 0 {
		t.Fatalf("serve --print-config: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"upload-ttl: 3h0m0s # config file\n",
		"garbage-grace: 6m0s # SILO_GARBAGE_GRACE\n",
		"shutdown-wait: 9s # flag\n",
		"md5-on-arrival: false # config file\n",
		"db: \"\" # default\n",
		"reap-interval: 10s # default\n",
		"addr: 127.0.0.1:8080 # default\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--print-config lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "config:") || strings.Contains(r.stdout, "print-config:") {
		t.Errorf("--print-config prints itself or --config as settings:\n%s", r.stdout)
	}

	// What it prints is a --config file that gives the same settings.
	writeFile(t, cfg, r.stdout)
	again := runCLI(nil, "", "serve", "--print-config", "--config", cfg)
	if again.code != 0 || strings.ReplaceAll(again.stdout, "# config file", "") != strings.NewReplacer(
		"# default", "", "# flag", "", "# config file", "", "# SILO_GARBAGE_GRACE", "", "# SILO_SHUTDOWN_WAIT", "").Replace(r.stdout) {
		t.Errorf("--print-config fed back to --config: exit %d\n%s\nwant the settings of\n%s", again.code, again.stdout, r.stdout)
	}

	// The server runs with the file's settings.
	writeFile(t, cfg, "upload-ttl: 2h\n")
	s := startSilo(t, "", nil, "--config", cfg)
	u, err := s.client("k").Uploads.New(context.Background(), openai.UploadNewParams{Bytes: 1, Filename: "f", MimeType: "a/b", Purpose: "user_data"})
	fatalIf(t, err)
	if u.ExpiresAt-u.CreatedAt != 7200 {
		t.Errorf("upload-ttl: 2h from --config: expires_at - created_at = %d, want 7200", u.ExpiresAt-u.CreatedAt)
	}
}

// TestServe_PrintConfigMasksSecrets: passwords in URLs and connection
// strings are not printed.
func TestServe_PrintConfigMasksSecrets(t *testing.T) {
	env := map[string]string{
		"SILO_DB":       "postgres://silo:pg-s3cret@db.example:5432/silo?sslmode=verify-full&sslpassword=key-s3cret",
		"SILO_BLOBS":    "s3://bucket/prefix?endpoint=http://minio:9000&region=us-east-1",
		"SILO_API_KEYS": "sk-s3cret=p,sk-other",
	}
	r := runCLI(env, "", "serve", "--print-config")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "s3cret") {
		t.Errorf("--print-config shows a secret:\n%s", r.stdout)
	}
	for _, want := range []string{
		"db: postgres://silo:xxxxx@db.example:5432/silo?sslmode=verify-full&sslpassword=xxxxx # SILO_DB\n",
		"blobs: s3://bucket/prefix?endpoint=http://minio:9000&region=us-east-1 # SILO_BLOBS\n",
		"# SILO_API_KEYS: 2 entries, not shown\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--print-config lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, tc := range []struct{ name, in, want string }{
		{"db", "host=db user=silo password='a b' dbname=silo", "host=db user=silo password=xxxxx dbname=silo"},
		{"db", "host=db password=pw sslmode=disable", "host=db password=xxxxx sslmode=disable"},
		{"s3-secret-key", "anything", "xxxxx"},
		{"addr", "0.0.0.0:8080", "0.0.0.0:8080"},
	} {
		if got := maskSecrets(tc.name, tc.in); got != tc.want {
			t.Errorf("maskSecrets(%q, %q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// TestServe_ConfigErrors: a wrong line of --config is a usage error that
// names the line.
func TestServe_ConfigErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"addr: 127.0.0.1:0\nbase-url: http://x\n", `line 2: "base-url" is not a flag of silo serve`},
		{"upload-ttl: soon\n", `line 1: upload-ttl: time: invalid duration "soon"`},
		{"addr: [a, b]\n", "line 1: addr: takes one value, not a list"},
		{"addr: a\naddr: b\n", "line 2: addr is set on line 1 already"},
		{"config: other.yaml\n", `"config" is not a flag`},
		{"- addr\n", "want settings of the form flag-name: value"},
		{"addr: [\n", "--config"},
	} {
		cfg := filepath.Join(t.TempDir(), "silo.yaml")
		writeFile(t, cfg, tc.text)
		r := runCLI(nil, "", "serve", "--config", cfg, "--print-config")
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("--config %q: exit %d, stderr %q; want 2 and %q", tc.text, r.code, r.stderr, tc.want)
		}
	}
}

// TestServe_HelpListsServerFlagsOnly: the client's flags are not the server's.
func TestServe_HelpListsServerFlagsOnly(t *testing.T) {
	r := runCLI(nil, "", "serve", "--help")
	if r.code != 0 {
		t.Fatalf("serve --help: exit %d", r.code)
	}
	for _, flag := range []string{"--addr", "--tls-cert", "--tls-key", "--config", "--print-config", "--api-keys-file"} {
		if !strings.Contains(r.stdout, flag) {
			t.Errorf("serve --help lacks %s:\n%s", flag, r.stdout)
		}
	}
	for _, flag := range []string{"--api-key ", "--base-url", "--format", "--ca-cert", "Global Flags"} {
		if strings.Contains(r.stdout, flag) {
			t.Errorf("serve --help lists the client's %s:\n%s", flag, r.stdout)
		}
	}
	if r := runCLI(nil, "", "serve", "--base-url", "http://x"); r.code != 2 {
		t.Errorf("serve --base-url: exit %d, want 2", r.code)
	}
	// The client's flags still work before the command, as before.
	if r := runCLI(nil, "", "--format", "yaml", "files", "list"); r.code != 2 || !strings.Contains(r.stderr, `invalid --format "yaml"`) {
		t.Errorf("silo --format yaml files list: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestServe_ExtraArgumentsAreUsage: silo serve extra exits 2 with the usage.
func TestServe_ExtraArgumentsAreUsage(t *testing.T) {
	r := runCLI(nil, "", "serve", "extra")
	if r.code != 2 || !strings.Contains(r.stderr, "unexpected extra arguments: extra") || !strings.Contains(r.stderr, "Usage:") {
		t.Fatalf("serve extra: exit %d, stderr %q; want 2 with the usage", r.code, r.stderr)
	}
}

// TestVersion: silo version and silo --version print the linker's values in
// a release build, and the build's own otherwise.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := runCLI(nil, "", args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "silo ") || !strings.Contains(r.stdout, "go1.") {
			t.Errorf("silo %v: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	// A release build of the real binary, with the same flags as this test
	// binary (-race or not) so that the build cache serves it.
	bin := filepath.Join(t.TempDir(), "silo")
	const pkg = "github.com/silo-dev/silo/internal/version."
	args := []string{"build", "-o", bin, "-ldflags",
		"-X " + pkg + "version=v1.2.3 -X " + pkg + "revision=0123abcd -X " + pkg + "buildTime=2026-12-02T04:30:00Z"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).Output()
		if want := "silo v1.2.3 (revision 0123abcd, 2026-12-02T04:30:00Z, go1."; err != nil || !strings.HasPrefix(string(out), want) {
			t.Errorf("silo %v: %v, %q; want it to start with %q", args, err, out, want)
		}
	}
}

// TestHealthcheck: silo healthcheck exits 0 while the server answers
// /healthz, finds it from SILO_ADDR (over https when SILO_TLS_CERT is set,
// see TestServe_TLS), and exits 1 when nothing answers.
func TestHealthcheck(t *testing.T) {
	s := startSilo(t, "", nil)
	addr := strings.TrimSuffix(strings.TrimPrefix(s.BaseURL, "http://"), "/v1")
	if r := runCLI(map[string]string{"SILO_ADDR": addr}, "", "healthcheck"); r.code != 0 {
		t.Errorf("healthcheck of a running server: exit %d, stderr %q", r.code, r.stderr)
	}
	s.stop()
	if r := runCLI(map[string]string{"SILO_ADDR": addr}, "", "healthcheck", "--timeout", "2s"); r.code != 1 {
		t.Errorf("healthcheck of a stopped server: exit %d, want 1", r.code)
	}
	for _, tc := range []struct {
		addr string
		tls  bool
		want string
	}{
		{"", false, "http://127.0.0.1:8080/healthz"},
		{"0.0.0.0:9000", true, "https://127.0.0.1:9000/healthz"},
		{":8081", false, "http://127.0.0.1:8081/healthz"},
		{"[::]:8080", false, "http://127.0.0.1:8080/healthz"},
		{"[::1]:8080", false, "http://[::1]:8080/healthz"},
		{"silo.internal:8080", false, "http://silo.internal:8080/healthz"},
	} {
		if got := healthURL(tc.addr, tc.tls); got != tc.want {
			t.Errorf("healthURL(%q, %v) = %q, want %q", tc.addr, tc.tls, got, tc.want)
		}
	}
}
