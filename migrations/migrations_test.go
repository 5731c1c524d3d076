package migrations_test

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/migrations"
)

// The template stays empty here: these tests migrate it themselves.
func TestMain(m *testing.M) {
	os.Exit(pgtest.Run(m, func(context.Context, *sql.DB) error { return nil }))
}

func TestUpFromEmptyReachesTheCurrentSchemaOnce(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDB(t).DB

	current, err := migrations.Current(ctx, db)
	if err != nil || current {
		t.Fatalf("empty database: current = %v, %v; want false", current, err)
	}
	if err := migrations.Up(ctx, db); err != nil {
		t.Fatal(err)
	}
	if current, err = migrations.Current(ctx, db); err != nil || !current {
		t.Fatalf("after Up: current = %v, %v; want true", current, err)
	}
	// A second replica starting later finds nothing to do.
	if err := migrations.Up(ctx, db); err != nil {
		t.Fatalf("second Up: %v", err)
	}
	for _, table := range []string{"commissioners", "pcns", "pcn_practices", "roles", "rates",
		"role_headcount_caps", "financial_years", "entitlements", "posts", "request_ids", "audit_events", "audit_heads",
		"training_hubs", "training_hub_practices", "cpd_schemes", "cpd_baselines", "cpd_allocations", "cpd_needs",
		"cpd_courses", "cpd_requests"} {
		var exists bool
		if err := db.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil || !exists {
			t.Errorf("table %s missing after Up (%v)", table, err)
		}
	}
}

func TestReplicasMigratingAtOnceAgree(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			db, err := sql.Open("postgres", url)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			errs <- migrations.Up(ctx, db)
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Up: %v", err)
		}
	}
}

// TestEveryTableCheckHasAName: a table-level CHECK left to PostgreSQL's
// naming (posts_check1) is named by its declaration order, so a migration
// dropping it by that name may drop another rule.
func TestEveryTableCheckHasAName(t *testing.T) {
	db := pgtest.NewDB(t)
	if err := migrations.Up(t.Context(), db.DB); err != nil {
		t.Fatal(err)
	}
	var unnamed []string
	if err := db.SelectContext(t.Context(), &unnamed, `SELECT c.conname FROM pg_constraint c
		JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
		WHERE n.nspname = current_schema() AND c.conname ~ ('^' || r.relname || '_check[0-9]*$')
		ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if len(unnamed) > 0 {
		t.Errorf("table-level checks with PostgreSQL's generated names: %v", unnamed)
	}
}
