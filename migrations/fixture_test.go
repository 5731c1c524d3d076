package migrations_test

import (
	"testing"

	"github.com/jmoiron/sqlx"

	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/migrations"
)

// atVersion is a new database migrated up to version: a migration's test
// then writes what an older arrs did and migrates on.
func atVersion(t *testing.T, version int64) *sqlx.DB {
	t.Helper()
	db := pgtest.NewDB(t)
	if err := migrations.UpTo(t.Context(), db.DB, version); err != nil {
		t.Fatal(err)
	}
	return db
}

// linesFixture is, in SQL straight into the tables (a migration test runs
// below the store, at the schema of its version), what claim lines need
// above them: an ICB, its PCN U12345, two roles, the 2025-26 year, three
// posts (cc-1 and cc-2 care co-ordinators, dt-1 a dietitian) and draft
// claims for April and May 2025.
var linesFixture = []string{
	`INSERT INTO commissioners (code, kind, display_name, valid_from) VALUES ('QNQ', 'icb', 'Frimley ICB', '2022-07-01')`,
	`INSERT INTO pcns (code, display_name, commissioner_code, weighting_zone, registered_list_size, payee_kind)
		VALUES ('U12345', 'Riverside', 'QNQ', 'national', 40000, 'pcn_account')`,
	`INSERT INTO roles (id, display_name, register, reimbursable_from) VALUES
		('care-coordinator', 'Care co-ordinator', 'none', '2020-04-01'), ('dietitian', 'Dietitian', 'none', '2020-04-01')`,
	`INSERT INTO financial_years (id, rate_per_weighted_patient) VALUES ('2025-26', 26.631)`,
	`INSERT INTO posts (pcn_code, id, role_id, state, staff_name, wte, start_date) VALUES
		('U12345', 'cc-1', 'care-coordinator', 'filled', 'Megan Lewis', 1, '2025-04-01'),
		('U12345', 'cc-2', 'care-coordinator', 'filled', 'Sam Okafor', 0.5, '2025-04-01'),
		('U12345', 'dt-1', 'dietitian', 'filled', 'Ana Silva', 0.8, '2025-04-01')`,
	`INSERT INTO claims (pcn_code, id, kind, month, financial_year, state, commissioner_code) VALUES
		('U12345', '2025-04', 'monthly', '2025-04-01', '2025-26', 'draft', 'QNQ'),
		('U12345', '2025-05', 'monthly', '2025-05-01', '2025-26', 'draft', 'QNQ')`,
}
