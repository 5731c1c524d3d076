package pgcluster_test

import (
	"context"
	"database/sql"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	_ "github.com/lib/pq"

	"arrs.nhs.uk/arrs/internal/pgcluster"
)

// clusterDir returns an empty directory for a cluster. It is not under
// t.TempDir because, when we are root, the server runs as postgres and
// cannot enter the 0700 directories t.TempDir makes.
func clusterDir(t *testing.T) string {
	t.Helper()
	if _, err := pgcluster.BinDir(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir, err := os.MkdirTemp("", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func start(t *testing.T, dir string) *pgcluster.Cluster {
	t.Helper()
	c, err := pgcluster.Start(t.Context(), pgcluster.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	// Stop is idempotent, so this also covers tests that stop it themselves.
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return c
}

func query(t *testing.T, url, q string) string {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var s string
	if err := db.QueryRowContext(t.Context(), q).Scan(&s); err != nil {
		t.Fatalf("%s on %s: %v", q, url, err)
	}
	return s
}

func postmasterPID(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitN(string(b), "\n", 2)[0]
}

func TestLifecycle(t *testing.T) {
	dir := clusterDir(t)
	c := start(t, dir)
	if c.Port == 0 || c.Dir != dir {
		t.Fatalf("cluster = %+v", c)
	}
	if got := query(t, c.URL("postgres"), "SELECT current_user"); got != "postgres" {
		t.Errorf("current_user = %q, want postgres", got)
	}

	for range 2 {
		if err := c.EnsureDatabase(t.Context(), "arrs"); err != nil {
			t.Fatal(err)
		}
	}
	if got := query(t, c.URL("arrs"), "CREATE EXTENSION btree_gist; SELECT extversion FROM pg_extension WHERE extname = 'btree_gist'"); got == "" {
		t.Error("btree_gist has no version")
	}

	// A second Start on a running cluster reuses its postmaster.
	pid := postmasterPID(t, dir)
	again := start(t, dir)
	if again.Port != c.Port {
		t.Errorf("reused cluster on port %d, want %d", again.Port, c.Port)
	}
	if got := postmasterPID(t, dir); got != pid {
		t.Errorf("postmaster pid %s, want the running %s", got, pid)
	}
	query(t, again.URL("arrs"), "SELECT 1")

	if err := c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("postmaster.pid after Stop: %v", err)
	}
	if err := c.Stop(t.Context()); err != nil {
		t.Errorf("second Stop: %v", err)
	}

	// A kept cluster starts again on its old port, with its data.
	kept := start(t, dir)
	if kept.Port != c.Port {
		t.Errorf("restarted on port %d, want the remembered %d", kept.Port, c.Port)
	}
	if got := query(t, kept.URL("arrs"), "SELECT count(*) FROM pg_extension WHERE extname = 'btree_gist'"); got != "1" {
		t.Errorf("btree_gist rows after restart = %s, want 1", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "server.log")); err != nil {
		t.Errorf("server log: %v", err)
	}
}

func TestStartRefusesForeignDirectory(t *testing.T) {
	dir := clusterDir(t)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := pgcluster.Start(t.Context(), pgcluster.Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "neither empty") {
		t.Fatalf("Start on a non-empty foreign directory: err = %v", err)
	}
}

func TestBinDirOverride(t *testing.T) {
	t.Setenv("PG_BINDIR", t.TempDir())
	if _, err := pgcluster.BinDir(); err == nil || !strings.Contains(err.Error(), "PG_BINDIR") {
		t.Fatalf("BinDir with an empty PG_BINDIR: err = %v", err)
	}
}

// TestRememberedPortTaken checks that a kept cluster whose port has been
// taken meanwhile moves to another port rather than failing.
func TestRememberedPortTaken(t *testing.T) {
	dir := clusterDir(t)
	c := start(t, dir)
	if err := c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	moved := start(t, dir)
	if moved.Port == c.Port {
		t.Fatalf("started on the taken port %d", c.Port)
	}
	query(t, moved.URL("postgres"), "SELECT 1")
}
