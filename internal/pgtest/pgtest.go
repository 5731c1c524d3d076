// Package pgtest gives every test a PostgreSQL database of its own, cloned
// from a template that is migrated once per test binary.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, migrations.Up)) }
//
// and call NewDB or NewDatabase in tests, which may run in parallel.
//
// The server is the one ARRS_TEST_DATABASE_URL names (a superuser URL to
// PostgreSQL 13 or later), or else a throwaway pgcluster under a temporary
// directory that lives as long as the test binary. Without PostgreSQL
// binaries, tests that need a database are skipped, unless CI is set, when
// Run fails.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"arrs.nhs.uk/arrs/internal/pgcluster"
)

// Migrate brings an empty database to the current schema.
type Migrate func(ctx context.Context, db *sql.DB) error

// The harness state lives in package variables because TestMain is the only
// hook that spans a test binary. Run sets them before any test runs; tests
// only read them, apart from seq.
var (
	admin      *sql.DB      // maintenance connection; creates and drops the databases
	server     url.URL      // server URL; a database's URL differs only in its path
	template   string       // migrated template, named uniquely per process
	cloneSQL   string       // CREATE DATABASE clause after the new name
	skipReason string       // why tests are skipped, when there is no PostgreSQL
	seq        atomic.Int64 // numbers the clones
)

// Run sets up the server and the template, runs the tests and tears it all
// down, returning the exit code for os.Exit. It is called from TestMain:
// os.Exit(pgtest.Run(m, migrations.Up)).
func Run(m *testing.M, migrate Migrate) int {
	code, err := run(m, migrate)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return max(code, 1)
	}
	return code
}

func run(m *testing.M, migrate Migrate) (code int, err error) {
	ctx := context.Background()
	u, release, err := acquireServer(ctx)
	if errors.Is(err, errNoPostgres) && os.Getenv("CI") == "" {
		skipReason = err.Error()
		return m.Run(), nil
	}
	if err != nil {
		return 0, err
	}
	defer func() { err = errors.Join(err, release()) }()
	server = *u

	if admin, err = sql.Open("postgres", server.String()); err != nil {
		return 0, err
	}
	defer func() { err = errors.Join(err, admin.Close()) }()

	// Unique per process so that test binaries sharing a server, as with
	// ARRS_TEST_DATABASE_URL and go test ./..., keep out of each other's way.
	template = fmt.Sprintf("pgtest_%d_%s", os.Getpid(), strconv.FormatUint(rand.Uint64(), 36))
	quoted := pq.QuoteIdentifier(template)
	// template0 is empty, whatever may have been added to template1.
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+quoted+" TEMPLATE template0"); err != nil {
		return 0, fmt.Errorf("create template database on %s: %w", server.Redacted(), err)
	}
	defer func() {
		_, derr := admin.ExecContext(ctx, "DROP DATABASE "+quoted+" WITH (FORCE)")
		err = errors.Join(err, derr)
	}()
	if err := migrateTemplate(ctx, migrate); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// NewDatabase creates a database cloned from the migrated template and
// returns its superuser URL. The database is dropped, with any connections
// left to it, when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	if skipReason != "" {
		t.Skip("pgtest:", skipReason)
	}
	if admin == nil {
		t.Fatal("pgtest: no server: TestMain must call os.Exit(pgtest.Run(m, migrate))")
	}
	name := template + "_" + strconv.FormatInt(seq.Add(1), 10)
	quoted := pq.QuoteIdentifier(name)
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+quoted+cloneSQL); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+quoted+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u := server
	u.Path = "/" + name
	return u.String()
}

// NewDB opens a database from NewDatabase with sqlx and the lib/pq driver,
// and closes it when the test ends.
func NewDB(t testing.TB) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", NewDatabase(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return db
}

// errNoPostgres means there is neither ARRS_TEST_DATABASE_URL nor a
// PostgreSQL installation to start a cluster from.
var errNoPostgres = errors.New("no PostgreSQL for tests")

// acquireServer returns the URL of a superuser connection to a server, and
// a function to release the server once the tests are done.
func acquireServer(ctx context.Context) (*url.URL, func() error, error) {
	if s := os.Getenv("ARRS_TEST_DATABASE_URL"); s != "" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return nil, nil, errors.New("ARRS_TEST_DATABASE_URL must be a postgres:// URL")
		}
		return u, func() error { return nil }, nil
	}
	if _, err := pgcluster.BinDir(); err != nil {
		return nil, nil, fmt.Errorf("%w: set ARRS_TEST_DATABASE_URL or install PostgreSQL: %w", errNoPostgres, err)
	}
	// Made by us rather than t.TempDir, as there is no t yet; pgcluster
	// hands it to the postgres user when we are root.
	dir, err := os.MkdirTemp(clusterParent(), "pgtest-")
	if err != nil {
		return nil, nil, err
	}
	release, err := watchdog(dir)
	if err != nil {
		return nil, nil, errors.Join(err, os.RemoveAll(dir))
	}
	// Warn only: Info would add the cluster's whereabouts to every go test -v.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Logger: logger})
	if err != nil {
		return nil, nil, errors.Join(err, release())
	}
	u, err := url.Parse(c.URL("postgres"))
	if err != nil {
		return nil, nil, errors.Join(err, release())
	}
	return u, release, nil
}

// watchdogScript waits for its standard input to close, which happens when
// the test binary exits however it exits (a panic, a -timeout, SIGKILL), then
// stops the cluster in $1 immediately and removes $1. It ignores the Ctrl-C
// that goes to the whole foreground process group, so it outlives the test
// binary. The wait for the postmaster is bounded because an orphaned
// postmaster may stay a zombie where PID 1 does not reap.
const watchdogScript = `trap '' INT HUP
read _
pid=$(head -n 1 "$1/postmaster.pid" 2>/dev/null) && kill -QUIT "$pid" 2>/dev/null
i=0
while [ -e "$1/postmaster.pid" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
rm -rf "$1"
`

// watchdog starts the cleanup of the cluster in dir, which runs when the
// returned function is called or when this process dies.
func watchdog(dir string) (func() error, error) {
	cmd := exec.Command("/bin/sh", "-c", watchdogScript, "pgtest-watchdog", dir)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start cleanup watchdog: %w", err)
	}
	return func() error {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("remove test cluster %s: %w", dir, err)
		}
		return nil
	}, nil
}

// migrateTemplate migrates the template and leaves no connection to it:
// CREATE DATABASE refuses, after waiting up to 5 s, to copy a database that
// anyone is connected to.
func migrateTemplate(ctx context.Context, migrate Migrate) error {
	quoted := pq.QuoteIdentifier(template)
	u := server
	u.Path = "/" + template
	db, err := sql.Open("postgres", u.String())
	if err != nil {
		return err
	}
	err = migrate(ctx, db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("migrate template database: %w", err)
	}
	// Nothing, a test included, can connect to the template from now on.
	if _, err := admin.ExecContext(ctx, "ALTER DATABASE "+quoted+" ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("lock template database: %w", err)
	}
	// Closed connections end their backends asynchronously.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		if err := admin.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", template).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("template database %s still has %d connections after migrating", template, n)
		}
		time.Sleep(10 * time.Millisecond)
	}

	var version int
	var fsync string
	if err := admin.QueryRowContext(ctx, "SELECT current_setting('server_version_num')::int, current_setting('fsync')").Scan(&version, &fsync); err != nil {
		return err
	}
	cloneSQL = " TEMPLATE " + quoted
	// PostgreSQL 15 copies through the WAL by default, which spares a
	// durable server two checkpoints per clone. Without fsync checkpoints
	// cost next to nothing and copying the files is 2-3 times faster.
	if version >= 150000 && fsync == "off" {
		cloneSQL += " STRATEGY FILE_COPY"
	}
	return nil
}
