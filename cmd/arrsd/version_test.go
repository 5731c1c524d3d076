package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"arrs.nhs.uk/arrs/internal/buildinfo"
)

func TestVersionCommandPrintsTheBuild(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"version"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	info := buildinfo.Get()
	want := "version " + info.Version + "\ncommit  " + info.Commit + "\ngo      " + info.GoVersion + "\n"
	if out.String() != want {
		t.Errorf("arrsd version printed\n%s\nwant\n%s", out.String(), want)
	}
	if err := run(t.Context(), []string{"version", "--json"}, func(string) string { return "" }, &out, &out); err == nil {
		t.Error("arrsd version accepted an argument")
	}
}

// A release build stamps its version and commit at link time, as the
// Makefile and Dockerfile do; the binary reports them.
func TestVersionIsStampedAtLinkTime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds arrsd; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "arrsd")
	const pkg = "arrs.nhs.uk/arrs/internal/buildinfo"
	build := exec.CommandContext(ctx, "go", "build", "-o", bin,
		"-ldflags", "-X "+pkg+".version=v9.8.7 -X "+pkg+".commit=0123456789abcdef", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("arrsd version: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 || lines[0] != "version v9.8.7" || lines[1] != "commit  0123456789abcdef" || !strings.HasPrefix(lines[2], "go      go1.") {
		t.Errorf("arrsd version printed:\n%s", out)
	}
}
