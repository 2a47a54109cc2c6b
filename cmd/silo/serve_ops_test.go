package main

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestRedactStore(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "DEFAULT"},
		{"sqlite:/var/lib/silo/silo.db", "sqlite:/var/lib/silo/silo.db"},
		{"postgres://silo:s3cret@db.internal:5432/silo?sslmode=require&password=x", "postgres://db.internal:5432/silo"},
		{"s3://bucket/prefix?endpoint=http://key:s3cret@minio:9000&region=us-east-1", "s3://bucket/prefix at http://minio:9000"},
	} {
		got := redactStore(tc.in, "DEFAULT")
		if got != tc.want {
			t.Errorf("redactStore(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "s3cret") {
			t.Errorf("redactStore(%q) leaks the password: %q", tc.in, got)
		}
	}
}

func TestNewLogger(t *testing.T) {
	for _, tc := range []struct {
		format, level string
		ok            bool
	}{
		{"text", "info", true}, {"json", "debug", true}, {"json", "WARN", true}, {"text", "error", true},
		{"xml", "info", false}, {"text", "loud", false},
	} {
		_, err := newLogger(io.Discard, tc.format, tc.level)
		if (err == nil) != tc.ok {
			t.Errorf("newLogger(%s, %s) = %v, want ok %v", tc.format, tc.level, err, tc.ok)
		}
		if err != nil && !errors.As(err, new(usageError)) {
			t.Errorf("newLogger(%s, %s): %v is no usage error", tc.format, tc.level, err)
		}
	}
}
