// Package version tells which build of Silo is running: the module version,
// the VCS revision and the build time, for `silo version`, the start-up log
// and the silo_build_info metric.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Release builds set these with the linker, for builds made without the VCS
// metadata that the go command stamps (a source tarball, a container build
// that leaves .git out):
//
//	go build -ldflags "-X github.com/silo-dev/silo/internal/version.version=v1.2.0
//	  -X github.com/silo-dev/silo/internal/version.revision=$(git rev-parse HEAD)
//	  -X github.com/silo-dev/silo/internal/version.buildTime=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
//
// They are variables only because -X can set nothing else; nothing assigns them.
var (
	version   string
	revision  string
	buildTime string
)

// Info describes a build. A field that nothing recorded is empty, except
// Version, which is "(devel)" then.
type Info struct {
	Version   string // module version, e.g. v1.2.0 or v0.0.0-20261202043000-abcdef123456+dirty
	Revision  string // VCS revision (commit hash)
	Modified  bool   // the work tree had uncommitted changes
	Time      string // build time if the linker set it, else the revision's commit time (RFC 3339)
	GoVersion string // toolchain, e.g. go1.26.8
	Platform  string // GOOS/GOARCH
}

// Get returns the running binary's build information: the linker's values
// where set, else what the go command recorded (debug.ReadBuildInfo).
func Get() Info {
	in := Info{GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		in.Version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Revision = s.Value
			case "vcs.time":
				in.Time = s.Value
			case "vcs.modified":
				in.Modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		in.Version = version
	}
	if revision != "" {
		in.Revision, in.Modified = revision, false
	}
	if buildTime != "" {
		in.Time = buildTime
	}
	if in.Version == "" {
		in.Version = "(devel)"
	}
	return in
}

// String is the one-line form, e.g.
// "silo v1.2.0 (revision 0123abcd, 2026-12-02T04:30:00Z, go1.26.8 linux/amd64)".
func (in Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "silo %s (", in.Version)
	if in.Revision != "" {
		rev := in.Revision
		if in.Modified {
			rev += "+modified"
		}
		fmt.Fprintf(&b, "revision %s, ", rev)
	}
	if in.Time != "" {
		fmt.Fprintf(&b, "%s, ", in.Time)
	}
	fmt.Fprintf(&b, "%s %s)", in.GoVersion, in.Platform)
	return b.String()
}
