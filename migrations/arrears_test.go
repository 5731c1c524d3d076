package migrations_test

import (
	"testing"

	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/migrations"
)

// TestTopUpsBeforeArrearsKeepTheirAmounts: 00011 changes what a top-up line
// reimburses (nothing until the PCN records arrears paid). A top-up already
// submitted by the old rule, min(actual, new cap) − settled, keeps its
// amount (marked legacy) and still satisfies the rule; a draft offered by
// the old rule now claims nothing until the arrears are recorded.
func TestTopUpsBeforeArrearsKeepTheirAmounts(t *testing.T) {
	ctx := t.Context()
	db := pgtest.NewDB(t).DB
	if err := migrations.UpTo(ctx, db, 10); err != nil {
		t.Fatal(err)
	}
	// April 2025: a co-ordinator cost 330000p, the monthly claim approved at
	// the 300000p cap; the award made the cap 330000p. s1 (approved) asked
	// for min(330000, 330000) − 300000 = 30000p by the old rule; s2, a
	// draft, 10000p of a later correction.
	for _, stmt := range []string{
		`INSERT INTO commissioners (code, kind, display_name, valid_from) VALUES ('QNQ', 'icb', 'Frimley ICB', '2022-07-01')`,
		`INSERT INTO pcns (code, display_name, commissioner_code, weighting_zone, registered_list_size, payee_kind)
			VALUES ('U12345', 'Riverside', 'QNQ', 'national', 40000, 'pcn_account')`,
		`INSERT INTO roles (id, display_name, register, reimbursable_from) VALUES ('care-coordinator', 'Care co-ordinator', 'none', '2020-04-01')`,
		`INSERT INTO financial_years (id, rate_per_weighted_patient) VALUES ('2025-26', 26.631)`,
		`INSERT INTO posts (pcn_code, id, role_id, state, staff_name, wte, start_date)
			VALUES ('U12345', 'cc-1', 'care-coordinator', 'filled', 'Megan Lewis', 1, '2025-04-01')`,
		`INSERT INTO claims (pcn_code, id, kind, month, financial_year, state, submitter, submit_time, commissioner_code,
			supplements, reviewer, review_time) VALUES
			('U12345', '2025-04', 'monthly', '2025-04-01', '2025-26', 'approved', 'cd', now(), 'QNQ', NULL, 'approver', now()),
			('U12345', '2025-04-s1', 'supplementary', '2025-04-01', '2025-26', 'approved', 'cd', now(), 'QNQ', '2025-04', 'approver', now()),
			('U12345', '2025-04-s2', 'supplementary', '2025-04-01', '2025-26', 'draft', '', NULL, 'QNQ', '2025-04', '', NULL)`,
		`INSERT INTO claim_lines (pcn_code, claim_id, post_id, month, kind, role_id, wte, gross_salary_pence, cap_pence,
			active_days, days_in_year, cap_segments, reimbursable_pence, already_paid_pence, approved_pence) VALUES
			('U12345', '2025-04', 'cc-1', '2025-04-01', 'monthly', 'care-coordinator', 1, 330000, 300000, 30, 365, '[]', 300000, 0, 300000),
			('U12345', '2025-04-s1', 'cc-1', '2025-04-01', 'supplementary', 'care-coordinator', 1, 330000, 330000, 30, 365, '[]', 30000, 300000, 30000),
			('U12345', '2025-04-s2', 'cc-1', '2025-04-01', 'supplementary', 'care-coordinator', 1, 400000, 340000, 30, 365, '[]', 10000, 330000, NULL)`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%v: %s", err, stmt)
		}
	}
	if err := migrations.Up(ctx, db); err != nil {
		t.Fatalf("00011 over top-ups claimed by the old rule: %v", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT l.claim_id, l.reimbursable_pence, l.legacy_top_up, c.legacy_top_up
		FROM claim_lines l JOIN claims c ON c.pcn_code = l.pcn_code AND c.id = l.claim_id ORDER BY l.claim_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type row struct {
		pence              int64
		lineLegacy, legacy bool
	}
	want := map[string]row{"2025-04": {300000, false, false}, "2025-04-s1": {30000, true, true}, "2025-04-s2": {0, false, false}}
	for rows.Next() {
		var id string
		var got row
		if err := rows.Scan(&id, &got.pence, &got.lineLegacy, &got.legacy); err != nil {
			t.Fatal(err)
		}
		if got != want[id] {
			t.Errorf("%s after 00011: %+v, want %+v", id, got, want[id])
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
