package migrations_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/lib/pq"

	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/migrations"
)

// deploy/postgres/grants.sql, the application role's privileges that
// docs/operating.md prescribes, must cover every table the migrations
// create, keep the audit trail append-only, and be enough for arrsd serve
// to start: it checks, under its migration lock, that the schema is
// current.
func TestGrantsCoverTheSchemaAndKeepTheAuditTrailAppendOnly(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t)
	admin, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	if err := migrations.Up(ctx, admin); err != nil {
		t.Fatal(err)
	}

	// Roles belong to the whole server, which may be shared: a role of the
	// test's own stands in for arrs_app.
	role := "arrs_app_" + strings.ToLower(rand.Text()[:10])
	password := rand.Text()
	if _, err := admin.ExecContext(ctx, "CREATE ROLE "+pq.QuoteIdentifier(role)+" LOGIN PASSWORD "+pq.QuoteLiteral(password)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, err := admin.ExecContext(context.Background(), "DROP OWNED BY "+pq.QuoteIdentifier(role)+"; DROP ROLE "+pq.QuoteIdentifier(role))
		if err != nil {
			t.Errorf("drop role: %v", err)
		}
	})
	grants, err := os.ReadFile("../deploy/postgres/grants.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, strings.ReplaceAll(string(grants), "arrs_app", pq.QuoteIdentifier(role))); err != nil {
		t.Fatalf("grants.sql: %v", err)
	}

	rows, err := admin.QueryContext(ctx, `
		SELECT c.relname,
		       array_remove(ARRAY[
		           CASE WHEN has_table_privilege($1, c.oid, 'SELECT') THEN 'SELECT' END,
		           CASE WHEN has_table_privilege($1, c.oid, 'INSERT') THEN 'INSERT' END,
		           CASE WHEN has_table_privilege($1, c.oid, 'UPDATE') THEN 'UPDATE' END,
		           CASE WHEN has_table_privilege($1, c.oid, 'DELETE') THEN 'DELETE' END,
		           CASE WHEN has_table_privilege($1, c.oid, 'TRUNCATE') THEN 'TRUNCATE' END,
		           CASE WHEN has_table_privilege($1, c.oid, 'REFERENCES') THEN 'REFERENCES' END,
		           CASE WHEN has_table_privilege($1, c.oid, 'TRIGGER') THEN 'TRIGGER' END], NULL)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
		ORDER BY c.relname`, role)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[string][]string{
		"audit_events":     {"SELECT", "INSERT"},
		"audit_heads":      {"SELECT", "INSERT", "UPDATE"},
		"goose_db_version": {"SELECT"},
	}
	readWrite := []string{"SELECT", "INSERT", "UPDATE", "DELETE"}
	var tables int
	for rows.Next() {
		var table string
		var privileges []string
		if err := rows.Scan(&table, pq.Array(&privileges)); err != nil {
			t.Fatal(err)
		}
		tables++
		expected, special := want[table]
		if !special {
			expected = readWrite
		}
		if !slices.Equal(privileges, expected) {
			t.Errorf("the application role has %v on %s, want %v (a new table goes into deploy/postgres/grants.sql)", privileges, table, expected)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if tables < len(want) {
		t.Fatalf("only %d tables in schema public", tables)
	}

	// As the application role: serve's start-up (migrate, then check the
	// schema is current) works, and the audit trail cannot be rewritten.
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, password)
	app, err := sql.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	if err := migrations.Up(ctx, app); err != nil {
		t.Fatalf("Up as the application role on a current schema: %v", err)
	}
	if current, err := migrations.Current(ctx, app); err != nil || !current {
		t.Fatalf("Current as the application role = %v, %v", current, err)
	}
	for _, stmt := range []string{
		"UPDATE audit_events SET subject = 'someone else'",
		"DELETE FROM audit_events",
		"TRUNCATE audit_events",
		"DELETE FROM audit_heads",
	} {
		var pqErr *pq.Error
		// The triggers refuse these with 42501 too, but not in these
		// words: the privilege check comes first.
		_, err := app.ExecContext(ctx, stmt)
		if !errors.As(err, &pqErr) || pqErr.Code != "42501" || !strings.HasPrefix(pqErr.Message, "permission denied") {
			t.Errorf("%s as the application role: %v, want permission denied (42501)", stmt, err)
		}
	}
}
