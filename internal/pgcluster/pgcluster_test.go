package pgcluster_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
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
	return startWith(t, pgcluster.Options{Dir: dir})
}

func startWith(t *testing.T, opts pgcluster.Options) *pgcluster.Cluster {
	t.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	c, err := pgcluster.Start(t.Context(), opts)
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

// TestSystemDir checks that root keeps a cluster whose directory the postgres
// user cannot reach (below a 0700 directory) under Options.SystemDir instead,
// linked from Dir, and that removing Dir's parent starts afresh.
func TestSystemDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user; SystemDir is not used otherwise")
	}
	system := clusterDir(t)
	if err := os.Chmod(system, 0o755); err != nil {
		t.Fatal(err)
	}
	private := t.TempDir() // 0700: the postgres user cannot enter it
	dir := filepath.Join(private, ".data", "postgres")
	opts := pgcluster.Options{Dir: dir, SystemDir: system}

	c := startWith(t, opts)
	if !c.Started || filepath.Dir(filepath.Dir(c.Dir)) != system || filepath.Base(c.Dir) != "postgres" {
		t.Fatalf("cluster = %+v, want one started in %s/HASH/postgres", c, system)
	}
	if target, err := os.Readlink(dir); err != nil || target != c.Dir {
		t.Errorf("%s links to %q (%v), want %s", dir, target, err, c.Dir)
	}
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(c.Dir), "data-dir")); err != nil || string(b) != dir+"\n" {
		t.Errorf("data-dir = %q (%v), want %s", b, err, dir)
	}
	if err := c.EnsureDatabase(t.Context(), "arrs"); err != nil {
		t.Fatal(err)
	}

	// Through the link: a running cluster is reused, a stopped one kept.
	if again := startWith(t, opts); again.Started || again.Dir != c.Dir || again.Port != c.Port {
		t.Errorf("second Start = %+v, want the running cluster reused", again)
	}
	if err := c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	kept := startWith(t, opts)
	if !kept.Started || kept.Dir != c.Dir {
		t.Errorf("restart = %+v, want the kept cluster started", kept)
	}
	if got := query(t, kept.URL("postgres"), "SELECT count(*) FROM pg_database WHERE datname = 'arrs'"); got != "1" {
		t.Errorf("the kept cluster has %s arrs databases, want 1", got)
	}

	// rm -rf .data, the server still running: the next Start stops it and
	// starts afresh in the same place.
	pid := postmasterPID(t, kept.Dir)
	if err := os.RemoveAll(filepath.Join(private, ".data")); err != nil {
		t.Fatal(err)
	}
	fresh := startWith(t, opts)
	if !fresh.Started || fresh.Dir != c.Dir {
		t.Errorf("Start after removing the data directory = %+v, want a new cluster in %s", fresh, c.Dir)
	}
	if got := postmasterPID(t, fresh.Dir); got == pid {
		t.Errorf("postmaster %s of the removed data directory still runs", pid)
	}
	if got := query(t, fresh.URL("postgres"), "SELECT count(*) FROM pg_database WHERE datname = 'arrs'"); got != "0" {
		t.Errorf("the fresh cluster has %s arrs databases, want none", got)
	}
}

// TestSystemDirLeavesOthersAlone checks that Start does not remove a
// directory under SystemDir that another data directory's link led to.
func TestSystemDirLeavesOthersAlone(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user; SystemDir is not used otherwise")
	}
	system := clusterDir(t)
	dir := filepath.Join(t.TempDir(), "postgres")
	sum := sha256.Sum256([]byte(dir))
	home := filepath.Join(system, hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(filepath.Join(home, "postgres"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "data-dir"), []byte("/somewhere/else/postgres\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := pgcluster.Start(t.Context(), pgcluster.Options{Dir: dir, SystemDir: system})
	if err == nil || !strings.Contains(err.Error(), "/somewhere/else/postgres") {
		t.Fatalf("Start over another data directory's cluster: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, "postgres")); err != nil {
		t.Errorf("the other cluster's directory: %v", err)
	}
}
