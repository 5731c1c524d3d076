// Package buildinfo says which build of arrs is running: its version, the
// commit it was built from and the Go toolchain that built it, for `arrsd
// version` and the arrs_build_info metric.
//
// The version and commit may be stamped at link time, as the Makefile and
// the Dockerfile do:
//
//	go build -ldflags "-X arrs.nhs.uk/arrs/internal/buildinfo.version=v1.2.0 -X arrs.nhs.uk/arrs/internal/buildinfo.commit=$(git rev-parse HEAD)"
//
// Unstamped, they come from what the Go toolchain recorded in the binary
// (runtime/debug.ReadBuildInfo): the module version when built with `go
// install …@version`, and vcs.revision when built inside a git checkout
// with VCS stamping on. It owns no other state and must not import the
// rest of arrs.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Stamped with -ldflags "-X …"; empty when not.
var (
	version string
	commit  string
)

// Unknown is what Version and Commit say when nothing recorded them.
const Unknown = "unknown"

// Info describes one build.
type Info struct {
	// Version is the release ("v1.2.0"), "dev" for an unstamped build from
	// a checkout, or the module version `go install` recorded.
	Version string
	// Commit is the git commit, with "-dirty" appended when the checkout
	// had uncommitted changes; Unknown when nothing recorded it.
	Commit string
	// GoVersion is the toolchain that built the binary ("go1.26.8").
	GoVersion string
}

// Get returns this binary's build information.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return resolve(version, commit, bi)
}

// resolve prefers what was stamped at link time over what the toolchain
// recorded, field by field, so a release build may stamp just the version
// and still report the commit VCS stamping found.
func resolve(stampedVersion, stampedCommit string, bi *debug.BuildInfo) Info {
	info := Info{Version: stampedVersion, Commit: stampedCommit, GoVersion: runtime.Version()}
	if bi != nil {
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		if info.Commit == "" {
			info.Commit = vcsCommit(bi.Settings)
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	if info.Commit == "" {
		info.Commit = Unknown
	}
	return info
}

// vcsCommit reads the revision VCS stamping recorded, marked "-dirty" when
// the working tree had changes.
func vcsCommit(settings []debug.BuildSetting) string {
	var revision string
	var modified bool
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if revision != "" && modified {
		revision += "-dirty"
	}
	return revision
}
