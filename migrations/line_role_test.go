package migrations_test

import (
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/migrations"
)

// TestALinesRoleIsItsPosts: from 00020 one foreign key holds a claim line to
// its post and to the post's role together. Lines drafted before carry on;
// a line naming another role than its post's, or a post that does not
// exist, is refused by the key's name, and so is changing a claimed post's
// role.
func TestALinesRoleIsItsPosts(t *testing.T) {
	ctx := t.Context()
	db := sqlx.NewDb(pgtest.NewDB(t).DB, "postgres")
	if err := migrations.UpTo(ctx, db.DB, 19); err != nil {
		t.Fatal(err)
	}
	line := func(post, role string) string {
		return `INSERT INTO claim_lines (pcn_code, claim_id, post_id, month, kind, role_id, wte, gross_salary_pence, cap_pence,
			active_days, days_in_year, cap_segments, reimbursable_pence) VALUES
			('U12345', '2025-04', '` + post + `', '2025-04-01', 'monthly', '` + role + `', 1, 250000, 300000, 30, 365, '[]', 250000)`
	}
	for _, stmt := range []string{
		`INSERT INTO commissioners (code, kind, display_name, valid_from) VALUES ('QNQ', 'icb', 'Frimley ICB', '2022-07-01')`,
		`INSERT INTO pcns (code, display_name, commissioner_code, weighting_zone, registered_list_size, payee_kind)
			VALUES ('U12345', 'Riverside', 'QNQ', 'national', 40000, 'pcn_account')`,
		`INSERT INTO roles (id, display_name, register, reimbursable_from) VALUES
			('care-coordinator', 'Care co-ordinator', 'none', '2020-04-01'), ('dietitian', 'Dietitian', 'none', '2020-04-01')`,
		`INSERT INTO financial_years (id, rate_per_weighted_patient) VALUES ('2025-26', 26.631)`,
		`INSERT INTO posts (pcn_code, id, role_id, state, staff_name, wte, start_date) VALUES
			('U12345', 'cc-1', 'care-coordinator', 'filled', 'Megan Lewis', 1, '2025-04-01'),
			('U12345', 'dt-1', 'dietitian', 'filled', 'Ana Silva', 0.8, '2025-04-01')`,
		`INSERT INTO claims (pcn_code, id, kind, month, financial_year, state, commissioner_code) VALUES
			('U12345', '2025-04', 'monthly', '2025-04-01', '2025-26', 'draft', 'QNQ')`,
		line("cc-1", "care-coordinator"), // drafted before the upgrade
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%v: %s", err, stmt)
		}
	}
	if err := migrations.Up(ctx, db.DB); err != nil {
		t.Fatalf("00020: %v", err)
	}
	var kept int
	if err := db.GetContext(ctx, &kept, `SELECT count(*) FROM claim_lines`); err != nil || kept != 1 {
		t.Fatalf("%d lines after the upgrade (%v), want the 1 drafted before", kept, err)
	}
	for _, tt := range []struct{ name, stmt, refusedBy string }{
		{"a line in another role than its post's", line("dt-1", "care-coordinator"), "claim_lines_post_and_role_fkey"},
		{"a line of no post", line("ot-9", "dietitian"), "claim_lines_post_and_role_fkey"},
		{"a claimed post given another role", `UPDATE posts SET role_id = 'dietitian' WHERE id = 'cc-1'`, "claim_lines_post_and_role_fkey"},
	} {
		_, err := db.ExecContext(ctx, tt.stmt)
		if err == nil || !strings.Contains(err.Error(), tt.refusedBy) {
			t.Errorf("%s: %v, want refused by %s", tt.name, err, tt.refusedBy)
		}
	}
	if _, err := db.ExecContext(ctx, line("dt-1", "dietitian")); err != nil {
		t.Errorf("a line in its post's role: %v", err)
	}
}
