package migrations_test

import (
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"arrs.nhs.uk/arrs/migrations"
)

// TestClaimTotalsFollowEveryKindOfLineStatement: from 00018 the triggers
// add each statement's own change to a claim's totals instead of working
// them out again from its lines. Totals made by 00016's triggers carry on,
// and after every kind of statement (several claims and roles at once,
// costs changed, approval, a role's last line gone, every line gone) they
// are what the lines add up to. A total out of step with its lines stops
// the statement that finds it instead of being corrected quietly.
func TestClaimTotalsFollowEveryKindOfLineStatement(t *testing.T) {
	ctx := t.Context()
	db := atVersion(t, 16)
	exec := func(t *testing.T, stmt string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%v: %s", err, stmt)
		}
	}
	for _, stmt := range append(linesFixture,
		// Made by 00016's triggers, before the upgrade.
		`INSERT INTO claim_lines (pcn_code, claim_id, post_id, month, kind, role_id, wte, gross_salary_pence, cap_pence,
			active_days, days_in_year, cap_segments, reimbursable_pence) VALUES
			('U12345', '2025-04', 'cc-1', '2025-04-01', 'monthly', 'care-coordinator', 1, 250000, 300000, 30, 365, '[]', 250000)`,
	) {
		exec(t, stmt)
	}
	if err := migrations.Up(ctx, db.DB); err != nil {
		t.Fatalf("00018: %v", err)
	}
	checkTotals(t, db, "after the upgrade")
	for _, step := range []struct{ name, stmt string }{
		{"lines of two claims and two roles inserted by one statement", `INSERT INTO claim_lines (pcn_code, claim_id, post_id,
			month, kind, role_id, wte, gross_salary_pence, cap_pence, active_days, days_in_year, cap_segments, reimbursable_pence) VALUES
			('U12345', '2025-04', 'cc-2', '2025-04-01', 'monthly', 'care-coordinator', 0.5, 100000, 150000, 30, 365, '[]', 100000),
			('U12345', '2025-04', 'dt-1', '2025-04-01', 'monthly', 'dietitian', 0.8, 200000, 240000, 30, 365, '[]', 200000),
			('U12345', '2025-05', 'cc-1', '2025-05-01', 'monthly', 'care-coordinator', 1, 260000, 300000, 31, 365, '[]', 260000),
			('U12345', '2025-05', 'dt-1', '2025-05-01', 'monthly', 'dietitian', 0.8, 210000, 240000, 31, 365, '[]', 210000)`},
		{"costs changed on one claim", `UPDATE claim_lines SET gross_salary_pence = gross_salary_pence + 1000,
			reimbursable_pence = reimbursable_pence + 1000 WHERE claim_id = '2025-04'`},
		{"approved below what was claimed", `UPDATE claim_lines SET approved_pence = reimbursable_pence - 700 WHERE claim_id = '2025-05'`},
		{"a line's FTE changed", `UPDATE claim_lines SET wte = 0.6 WHERE claim_id = '2025-04' AND post_id = 'dt-1'`},
		{"an update that changes nothing counted", `UPDATE claim_lines SET evidence_uris = '{https://example.nhs.uk/e/1}' WHERE claim_id = '2025-04'`},
		{"one of a role's two lines deleted", `DELETE FROM claim_lines WHERE claim_id = '2025-04' AND post_id = 'cc-2'`},
		{"a role's last line deleted", `DELETE FROM claim_lines WHERE claim_id = '2025-04' AND post_id = 'dt-1'`},
		{"a statement that touches no line", `DELETE FROM claim_lines WHERE claim_id = 'none'`},
		{"every line deleted", `DELETE FROM claim_lines`},
		{"lines back again", `INSERT INTO claim_lines (pcn_code, claim_id, post_id, month, kind, role_id, wte, gross_salary_pence,
			cap_pence, active_days, days_in_year, cap_segments, reimbursable_pence) VALUES
			('U12345', '2025-05', 'cc-2', '2025-05-01', 'monthly', 'care-coordinator', 0.5, 120000, 150000, 31, 365, '[]', 120000)`},
	} {
		exec(t, step.stmt)
		checkTotals(t, db, step.name)
	}

	// A role's totals tampered with: the next statement on its lines finds
	// them out of step (here: lines left, but no FTE) and fails, changing
	// nothing.
	exec(t, `UPDATE claim_role_totals SET lines = 2 WHERE claim_id = '2025-05' AND role_id = 'care-coordinator'`)
	_, err := db.ExecContext(ctx, `DELETE FROM claim_lines WHERE claim_id = '2025-05'`)
	if err == nil || !strings.Contains(err.Error(), "claim_role_totals") {
		t.Fatalf("deleting the lines of a claim whose totals were tampered with: %v, want an error on claim_role_totals", err)
	}
	var lines int
	if err := db.GetContext(ctx, &lines, `SELECT count(*) FROM claim_lines WHERE claim_id = '2025-05'`); err != nil || lines != 1 {
		t.Errorf("after the refused delete: %d lines (%v), want 1", lines, err)
	}
	// Tampered so that a role's last line leaves pence behind.
	exec(t, `UPDATE claim_role_totals SET lines = 1, counted_pence = counted_pence + 5 WHERE claim_id = '2025-05'`)
	_, err = db.ExecContext(ctx, `DELETE FROM claim_lines WHERE claim_id = '2025-05'`)
	if err == nil || !strings.Contains(err.Error(), "out of step") {
		t.Fatalf("deleting a role's last line with pence left over: %v, want out of step", err)
	}
}

// checkTotals compares every claim's counted_pence and claim_role_totals
// with what its lines add up to.
func checkTotals(t *testing.T, db *sqlx.DB, when string) {
	t.Helper()
	var wrong []string
	if err := db.Select(&wrong, `SELECT c.id || ' counts ' || c.counted_pence || ', its lines ' ||
			COALESCE(SUM(COALESCE(l.approved_pence, l.reimbursable_pence)), 0)
		FROM claims c LEFT JOIN claim_lines l ON l.pcn_code = c.pcn_code AND l.claim_id = c.id
		GROUP BY c.pcn_code, c.id, c.counted_pence
		HAVING c.counted_pence <> COALESCE(SUM(COALESCE(l.approved_pence, l.reimbursable_pence)), 0)
		UNION ALL
		SELECT COALESCE(l.claim_id, t.claim_id) || ' ' || COALESCE(l.role_id, t.role_id) || ': totals ' ||
			COALESCE(t.lines || ' lines ' || t.wte || ' FTE ' || t.counted_pence || 'p', 'none') || ', lines ' ||
			COALESCE(l.lines || ' lines ' || l.wte || ' FTE ' || l.counted_pence || 'p', 'none')
		FROM (SELECT pcn_code, claim_id, role_id, count(*)::int AS lines, sum(wte) AS wte,
			         sum(COALESCE(approved_pence, reimbursable_pence))::bigint AS counted_pence
			  FROM claim_lines GROUP BY pcn_code, claim_id, role_id) l
		FULL JOIN claim_role_totals t USING (pcn_code, claim_id, role_id)
		WHERE l.lines IS DISTINCT FROM t.lines OR l.wte IS DISTINCT FROM t.wte OR l.counted_pence IS DISTINCT FROM t.counted_pence`); err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	for _, w := range wrong {
		t.Errorf("%s: %s", when, w)
	}
}
