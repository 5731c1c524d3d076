package pgtest_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"sync"
	"testing"

	"arrs.nhs.uk/arrs/internal/pgtest"
)

func TestMain(m *testing.M) {
	os.Exit(pgtest.Run(m, func(ctx context.Context, db *sql.DB) error {
		_, err := db.ExecContext(ctx, `
			CREATE EXTENSION btree_gist;
			CREATE TABLE claims (id int PRIMARY KEY, practice text NOT NULL)`)
		return err
	}))
}

// TestIsolation has two parallel tests write to the table the template
// brought, each seeing only its own row once both have written.
func TestIsolation(t *testing.T) {
	var written sync.WaitGroup
	written.Add(2)
	for i, practice := range []string{"A81001", "B82002"} {
		t.Run(practice, func(t *testing.T) {
			t.Parallel()
			var once sync.Once
			done := func() { once.Do(written.Done) }
			defer done() // Also when failing, lest the other test wait forever.

			db := pgtest.NewDB(t)
			if _, err := db.ExecContext(t.Context(), "INSERT INTO claims VALUES ($1, $2)", i, practice); err != nil {
				t.Fatal(err)
			}
			done()
			written.Wait()

			var got []string
			if err := db.SelectContext(t.Context(), &got, "SELECT practice FROM claims"); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != practice {
				t.Errorf("claims hold %q, want only %q", got, practice)
			}
		})
	}
}

// TestDropped checks that a test's database is gone once the test is.
func TestDropped(t *testing.T) {
	var dbURL string
	t.Run("owner", func(t *testing.T) {
		dbURL = pgtest.NewDatabase(t)
		db, err := sql.Open("postgres", dbURL)
		if err != nil {
			t.Fatal(err)
		}
		// Left open on purpose: the drop must not wait for it.
		if err := db.PingContext(t.Context()); err != nil {
			t.Fatal(err)
		}
	})

	if dbURL == "" {
		t.Skip("no database to check")
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := u.Path[1:]
	u.Path = "/postgres"
	db, err := sql.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(t.Context(), "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s outlived its test", name)
	}
}

// TestManyParallel clones from many parallel tests at once.
func TestManyParallel(t *testing.T) {
	for i := range 8 {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			var n int
			if err := pgtest.NewDB(t).GetContext(t.Context(), &n, "SELECT count(*) FROM claims"); err != nil {
				t.Fatal(i, err)
			}
		})
	}
}

func BenchmarkNewDatabase(b *testing.B) {
	for b.Loop() {
		pgtest.NewDatabase(b)
	}
}
