package migrations_test

import (
	"strings"
	"testing"

	"arrs.nhs.uk/arrs/migrations"
)

// TestALinesRoleIsItsPosts: from 00020 one foreign key holds a claim line to
// its post and to the post's role together. Lines drafted before carry on;
// a line naming another role than its post's, or a post that does not
// exist, is refused by the key's name, and so is changing a claimed post's
// role.
func TestALinesRoleIsItsPosts(t *testing.T) {
	ctx := t.Context()
	db := atVersion(t, 19)
	line := func(post, role string) string {
		return `INSERT INTO claim_lines (pcn_code, claim_id, post_id, month, kind, role_id, wte, gross_salary_pence, cap_pence,
			active_days, days_in_year, cap_segments, reimbursable_pence) VALUES
			('U12345', '2025-04', '` + post + `', '2025-04-01', 'monthly', '` + role + `', 1, 250000, 300000, 30, 365, '[]', 250000)`
	}
	for _, stmt := range append(linesFixture,
		line("cc-1", "care-coordinator"), // drafted before the upgrade
	) {
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
