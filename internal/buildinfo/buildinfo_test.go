package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolvePrefersStampedValuesThenTheToolchainsRecord(t *testing.T) {
	vcs := func(revision, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "-trimpath", Value: "true"}, {Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: revision}, {Key: "vcs.modified", Value: modified}}
	}
	build := func(mainVersion string, settings []debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{GoVersion: "go1.26.7", Main: debug.Module{Path: "arrs.nhs.uk/arrs", Version: mainVersion}, Settings: settings}
	}
	tests := []struct {
		name                            string
		stampedVersion, stampedCommit   string
		bi                              *debug.BuildInfo
		wantVersion, wantCommit, wantGo string
	}{
		{"a release stamps both", "v1.2.0", "0123abcd", build("(devel)", vcs("feedbeef", "false")),
			"v1.2.0", "0123abcd", "go1.26.7"},
		{"a checkout build reads git's revision", "", "", build("(devel)", vcs("feedbeef", "false")),
			"dev", "feedbeef", "go1.26.7"},
		{"uncommitted changes mark the commit dirty", "", "", build("(devel)", vcs("feedbeef", "true")),
			"dev", "feedbeef-dirty", "go1.26.7"},
		{"a stamped version keeps git's revision", "v1.2.0", "", build("(devel)", vcs("feedbeef", "false")),
			"v1.2.0", "feedbeef", "go1.26.7"},
		{"go install module@version records the version", "", "", build("v1.3.0", nil),
			"v1.3.0", Unknown, "go1.26.7"},
		{"no VCS stamping and no stamp", "", "", build("(devel)", nil),
			"dev", Unknown, "go1.26.7"},
		{"no build information at all", "", "", nil,
			"dev", Unknown, runtime.Version()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := resolve(tc.stampedVersion, tc.stampedCommit, tc.bi)
			want := Info{Version: tc.wantVersion, Commit: tc.wantCommit, GoVersion: tc.wantGo}
			if got != want {
				t.Errorf("resolve = %+v, want %+v", got, want)
			}
		})
	}
}

func TestGetReportsThisBinary(t *testing.T) {
	got := Get()
	if got.GoVersion != runtime.Version() {
		t.Errorf("GoVersion = %q, want %q", got.GoVersion, runtime.Version())
	}
	if got.Version == "" || got.Commit == "" {
		t.Errorf("Get() = %+v: version and commit are never empty", got)
	}
	if !strings.HasPrefix(got.GoVersion, "go") {
		t.Errorf("GoVersion = %q", got.GoVersion)
	}
}
