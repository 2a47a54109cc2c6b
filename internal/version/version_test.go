package version

import (
	"runtime"
	"strings"
	"testing"
)

func TestInfo_String(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Info
		want string
	}{
		{"release", Info{Version: "v1.2.0", Revision: "0123abcd", Time: "2026-12-02T04:30:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64"},
			"silo v1.2.0 (revision 0123abcd, 2026-12-02T04:30:00Z, go1.26.8 linux/amd64)"},
		{"modified", Info{Version: "v0.0.0-20261202043000-0123abcd+dirty", Revision: "0123abcd", Modified: true, GoVersion: "go1.26.8", Platform: "linux/arm64"},
			"silo v0.0.0-20261202043000-0123abcd+dirty (revision 0123abcd+modified, go1.26.8 linux/arm64)"},
		{"nothing recorded", Info{Version: "(devel)", GoVersion: "go1.26.8", Platform: "linux/amd64"},
			"silo (devel) (go1.26.8 linux/amd64)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestGet: a test binary has a module version (at least "(devel)") and the
// running toolchain; the linker's values win over the go command's.
func TestGet(t *testing.T) {
	in := Get()
	if in.Version == "" || in.GoVersion != runtime.Version() || !strings.Contains(in.Platform, "/") {
		t.Fatalf("Get() = %+v", in)
	}
	version, revision, buildTime = "v9.9.9", "feedface", "2026-01-02T03:04:05Z"
	defer func() { version, revision, buildTime = "", "", "" }()
	in = Get()
	if in.Version != "v9.9.9" || in.Revision != "feedface" || in.Modified || in.Time != "2026-01-02T03:04:05Z" {
		t.Fatalf("with linker values: Get() = %+v", in)
	}
}
