package pgtest

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"arrs.nhs.uk/arrs/internal/pgcluster"
)

// Cluster is a PostgreSQL server of one test's own, which the test may stop
// and start again, to see what clients do through an outage. The shared
// server that NewDB clones from must never be stopped: other tests run on
// it in parallel.
type Cluster struct {
	c    *pgcluster.Cluster
	opts pgcluster.Options
}

// NewCluster starts a throwaway cluster with one database, "arrs",
// migrated, and removes it all when the test ends (or, through the
// watchdog, when the test binary dies). It takes seconds (initdb), so
// only tests that need to stop their server should use it; it skips like
// NewDB without PostgreSQL.
func NewCluster(t testing.TB, migrate Migrate) *Cluster {
	t.Helper()
	if skipReason != "" {
		t.Skip("pgtest:", skipReason)
	}
	dir, err := os.MkdirTemp(clusterParent(), "pgtest-own-")
	if err != nil {
		t.Fatal(err)
	}
	release, err := watchdog(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := release(); err != nil {
			t.Error(err)
		}
	})
	opts := pgcluster.Options{Dir: dir}
	c, err := pgcluster.Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Port = c.Port // a restart comes back where clients expect it
	cl := &Cluster{c: c, opts: opts}
	if err := c.EnsureDatabase(t.Context(), "arrs"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("postgres", cl.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := migrate(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	return cl
}

// URL is the superuser URL of the cluster's "arrs" database.
func (c *Cluster) URL() string { return c.c.URL("arrs") }

// Stop shuts the server down as an administrator would (pg_ctl stop -m
// fast): connected clients get 57P01 and new ones are refused.
func (c *Cluster) Stop(ctx context.Context) error { return c.c.Stop(ctx) }

// Start starts the server again on the same port and waits until it
// accepts connections.
func (c *Cluster) Start(ctx context.Context) error {
	restarted, err := pgcluster.Start(ctx, c.opts)
	if err != nil {
		return err
	}
	c.c = restarted
	return nil
}
