package claims_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"arrs.nhs.uk/arrs/claims"
)

// The national process for a backdated award: the maximum top-up is worked
// out centrally (new cap − reimbursed); the PCN pays its staff the arrears,
// records them for the staff it paid, and the clinical director declares
// they were paid when submitting. Each chosen line reimburses
// min(original actual + arrears paid, new cap) − already reimbursed, never
// below 0 and never above the maximum; a line not chosen claims nothing.
//
// The co-ordinator's £36,500 a year caps April (30 days) at 300000p; the
// award, £40,150 from 1 April published in August, at 4015000 × 30 ÷ 365 =
// 120,450,000 ÷ 365 = 330000p.
func TestArrearsPaidAreReimbursedUpToTheNewCap(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	tests := []struct {
		name      string
		post      string
		actual    int64 // April's original gross, all of its cost
		reimbursd int64 // what April's monthly claim reimbursed: min(actual, 300000)
		maximum   int64 // 330000 − reimbursed
		arrears   *claims.Arrears
		want      int64
	}{
		// Under the old cap: the old rule offered min(250000, 330000) −
		// 250000 = 0p, yet staff were paid £250 + £25 NI + £35 pension =
		// 31000p of arrears: min(250000 + 31000, 330000) − 250000 = 31000p.
		{"under the old cap, arrears paid", "cc-under", 250000, 250000, 80000,
			&claims.Arrears{GrossSalary: 25000, EmployerNI: 2500, EmployerPension: 3500}, 31000},
		// Over the old cap and arrears of £400: min(320000 + 40000, 330000)
		// − 300000 = 30000p, capped at the new cap (the maximum).
		{"capped at the new cap", "cc-capped", 320000, 300000, 30000,
			&claims.Arrears{GrossSalary: 40000}, 30000},
		// At the old cap, partial arrears of £120: min(300000 + 12000,
		// 330000) − 300000 = 12000p, less than the 30000p maximum.
		{"partial arrears", "cc-partial", 300000, 300000, 30000,
			&claims.Arrears{GrossSalary: 12000}, 12000},
		// Not chosen (not paid the uplift): nothing, though the old rule
		// offered min(310000, 330000) − 300000 = 10000p.
		{"not chosen", "cc-unchosen", 310000, 300000, 30000, nil, 0},
	}
	gross := map[string]int64{}
	for _, tt := range tests {
		must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, tt.post, "Staff "+tt.post, "2025-04-01")))
		gross[tt.post] = tt.actual
	}
	f.approvedMonthForTopUp(t, "U12345", "2025-04", gross)
	f.setRate(t, "care-coordinator", "2025-04-01", 4015000)

	s1 := f.topUps(t)["pcns/U12345/claims/2025-04-s1"]
	for _, tt := range tests {
		// Offered: every line at its maximum, none claimed yet.
		wantTopUpLine(t, s1, tt.post, 330000, tt.reimbursd, tt.maximum)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.arrears == nil {
				return
			}
			a := *tt.arrears
			l := f.payArrears(t, "U12345", "2025-04-s1", tt.post, a.GrossSalary, a.EmployerNI, a.EmployerPension, "2025-08-05")
			if l.ReimbursablePence != tt.want || l.MaxTopUpPence() != tt.maximum || l.GrossSalary != tt.actual {
				t.Errorf("reimbursable %d, maximum %d, gross %d; want %d, %d, %d (original costs kept)",
					l.ReimbursablePence, l.MaxTopUpPence(), l.GrossSalary, tt.want, tt.maximum, tt.actual)
			}
		})
	}

	// The award view shows, per month and staff member, the maximum and
	// what has been claimed: nothing yet, the top-up being a draft.
	award, err := f.store.GetBackdatedAward(f.ctx, "U12345", 2025)
	if err != nil {
		t.Fatal(err)
	}
	if award.Name() != "pcns/U12345/backdatedAwards/2025-26" || len(award.Lines) != len(tests) ||
		award.MaxTopUpPence() != 80000+30000+30000+30000 || award.ClaimedPence() != 0 {
		t.Fatalf("award %s: %d lines, maximum %d, claimed %d", award.Name(), len(award.Lines), award.MaxTopUpPence(), award.ClaimedPence())
	}

	// Submitted with the declaration, 31000 + 30000 + 12000 + 0 = 73000p is
	// claimed, and who declared it and when is on the claim and its audit.
	c, err := f.store.DeclareArrearsAndSubmit(f.ctx, claims.Request{}, "U12345", "2025-04-s1", "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Sums().ReimbursablePence != 73000 || c.ArrearsDeclaredBy != "system:test" || c.ArrearsDeclareTime == nil {
		t.Errorf("submitted %+v", c)
	}
	events, _, err := f.store.ListAuditEvents(f.ctx, c.Name(), claims.Page{Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	after, _ := json.Marshal(last.After)
	if last.Action != "submit" || !strings.Contains(string(after), `"ArrearsDeclaredBy":"system:test"`) {
		t.Errorf("submission audited as %s: %s", last.Action, after)
	}
	// The arrears are in the trail from when the PCN recorded them on the
	// line; the submission, which changed no line, records none.
	trail, _ := json.Marshal(events)
	if !strings.Contains(string(trail), `"arrears_paid_date":"2025-08-05"`) || strings.Contains(string(after), `"Lines"`) {
		t.Errorf("the arrears paid on 2025-08-05 are not in the claim's trail, or the submission repeats its lines: %s", trail)
	}
	award, _ = f.store.GetBackdatedAward(f.ctx, "U12345", 2025)
	claimed := map[string]int64{}
	for _, l := range award.Lines {
		claimed[l.PostID] = l.ClaimedPence
	}
	for _, tt := range tests {
		if claimed[tt.post] != tt.want {
			t.Errorf("award line %s claims %d, want %d", tt.post, claimed[tt.post], tt.want)
		}
	}
	if award.ClaimedPence() != 73000 {
		t.Errorf("award claims %d, want 73000", award.ClaimedPence())
	}
}

// TestATopUpNeverReimbursesBelowZero: the 0 floor. April's co-ordinator cost
// 250000p (under the old cap) and s1 claimed 31000p of arrears, approved:
// the month has settled 281000p. A correction, £43,800 from 16 April, makes
// the cap (4015000 × 15 + 4380000 × 15) ÷ 365 = 125,925,000 ÷ 365 =
// 345000p: s2 may claim 345000 − 281000 = 64000p at most. Arrears recorded
// on s2 as £200 (less than the £310 already paid and claimed) give
// min(250000 + 20000, 345000) − 281000 = −11000p: s2 claims 0, not less.
func TestATopUpNeverReimbursesBelowZero(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	f.approvedMonthForTopUp(t, "U12345", "2025-04", map[string]int64{"cc-1": 250000})
	f.setRate(t, "care-coordinator", "2025-04-01", 4015000)
	f.payArrears(t, "U12345", "2025-04-s1", "cc-1", 25000, 2500, 3500, "2025-08-05")
	f.declareAndApprove(t, "U12345", "2025-04-s1")
	must(t)(f.store.CreateRate(f.ctx, claims.Request{}, claims.Rate{RoleID: "care-coordinator", EffectiveDate: day(t, "2025-04-16"), NationalPence: 4380000}))
	s2 := f.topUps(t)["pcns/U12345/claims/2025-04-s2"]
	wantTopUpLine(t, s2, "cc-1", 345000, 281000, 64000)
	l := f.payArrears(t, "U12345", "2025-04-s2", "cc-1", 20000, 0, 0, "2025-08-09")
	if l.ReimbursablePence != 0 {
		t.Errorf("s2 reimburses %d, want 0", l.ReimbursablePence)
	}
	_, err := f.store.DeclareArrearsAndSubmit(f.ctx, claims.Request{}, "U12345", "2025-04-s2", "")
	wantReason(t, err, claims.KindFailedPrecondition, "NOTHING_OWED")
	// All April's arrears, £310 + £330 = 64000p: min(250000 + 64000,
	// 345000) − 281000 = 33000p.
	if l = f.payArrears(t, "U12345", "2025-04-s2", "cc-1", 61000, 3000, 0, "2025-08-09"); l.ReimbursablePence != 33000 {
		t.Errorf("s2 with all April's arrears reimburses %d, want 33000", l.ReimbursablePence)
	}
}

func TestArrearsAreCheckedAsTheyAreRecorded(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	f.approvedMonthForTopUp(t, "U12345", "2025-04", map[string]int64{"cc-1": 250000})
	must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-05")))
	f.setRate(t, "care-coordinator", "2025-04-01", 4015000)
	for _, tt := range []struct {
		name, claim string
		arrears     claims.Arrears
		field, rule string
	}{
		{"negative", "2025-04-s1", claims.Arrears{GrossSalary: 1000, EmployerNI: -1, PaidDate: day(t, "2025-08-05")}, "claim_line.arrears.employer_ni_pence", "NOT_NEGATIVE"},
		{"too large", "2025-04-s1", claims.Arrears{GrossSalary: 5000001, PaidDate: day(t, "2025-08-05")}, "claim_line.arrears.gross_salary_pence", "AMOUNT_TOO_LARGE"},
		{"no date", "2025-04-s1", claims.Arrears{GrossSalary: 1000}, "claim_line.arrears.paid_date", "REQUIRED"},
		{"nothing paid", "2025-04-s1", claims.Arrears{PaidDate: day(t, "2025-08-05")}, "claim_line.arrears.gross_salary_pence", "ARREARS_REQUIRED"},
		{"paid before the month", "2025-04-s1", claims.Arrears{GrossSalary: 1000, PaidDate: day(t, "2025-03-31")}, "claim_line.arrears.paid_date", "BEFORE_MONTH"},
		{"not paid yet", "2025-04-s1", claims.Arrears{GrossSalary: 1000, PaidDate: day(t, "2025-08-11")}, "claim_line.arrears.paid_date", "AFTER_TODAY"},
		{"on a monthly claim", "2025-05", claims.Arrears{GrossSalary: 1000, PaidDate: day(t, "2025-08-05")}, "claim_line.arrears", "NOT_A_TOP_UP"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.store.UpdateClaimLine(f.ctx, "U12345", tt.claim, "cc-1", "", func(l *claims.ClaimLine) { l.Arrears = tt.arrears })
			wantViolation(t, err, tt.field, tt.rule)
		})
	}
}

func TestSubmittingATopUpNeedsTheDeclarationAndAStaffMemberPaid(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	f.approvedMonthForTopUp(t, "U12345", "2025-04", map[string]int64{"cc-1": 250000})
	f.setRate(t, "care-coordinator", "2025-04-01", 4015000)

	// No staff member chosen: nothing to claim.
	_, err := f.store.DeclareArrearsAndSubmit(f.ctx, claims.Request{}, "U12345", "2025-04-s1", "")
	wantReason(t, err, claims.KindFailedPrecondition, "NO_ARREARS_CLAIMED")
	f.payArrears(t, "U12345", "2025-04-s1", "cc-1", 10000, 0, 0, "2025-08-05")
	// Without the declaration: refused, naming the field.
	_, err = f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-04-s1", "")
	wantReason(t, err, claims.KindFailedPrecondition, "ARREARS_NOT_DECLARED")
	if e, _ := claims.AsError(err); len(e.Violations) != 1 || e.Violations[0].Field != "arrears_paid_declared" {
		t.Errorf("violations %+v", e.Violations)
	}
	// A PCN manager may not declare or submit: the clinical director does.
	manager := claims.WithActor(context.Background(), claims.Actor{Subject: "manager:sam", Role: claims.RolePCNManager,
		OrgKind: claims.OrgPCN, OrgCode: "U12345"})
	_, err = f.store.DeclareArrearsAndSubmit(manager, claims.Request{}, "U12345", "2025-04-s1", "")
	wantKind(t, err, claims.KindPermissionDenied)
	// A monthly claim takes no declaration.
	must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-05")))
	f.pay(t, "2025-05", "cc-1", 100000)
	_, err = f.store.DeclareArrearsAndSubmit(f.ctx, claims.Request{}, "U12345", "2025-05", "")
	wantViolation(t, err, "arrears_paid_declared", "NOT_A_TOP_UP")

	cd := claims.WithActor(context.Background(), claims.Actor{Subject: "cd:asha", Role: claims.RolePCNClinicalDirector,
		OrgKind: claims.OrgPCN, OrgCode: "U12345"})
	// Arrears paid on 5 August cannot be claimed by a submission dated the
	// day before: they are claimed once paid.
	dayBefore := f.store.At(func() time.Time { return time.Date(2025, time.August, 4, 12, 0, 0, 0, time.UTC) })
	_, err = dayBefore.DeclareArrearsAndSubmit(cd, claims.Request{}, "U12345", "2025-04-s1", "")
	wantReason(t, err, claims.KindFailedPrecondition, "ARREARS_PAID_AFTER_SUBMISSION")
	c, err := f.store.DeclareArrearsAndSubmit(cd, claims.Request{}, "U12345", "2025-04-s1", "")
	if err != nil || c.ArrearsDeclaredBy != "cd:asha" || c.State != claims.ClaimSubmitted || c.Sums().ReimbursablePence != 10000 {
		t.Fatalf("declared submission: %+v, %v", c, err)
	}
}

// TestTheDatabaseHoldsTheArrearsRules: 00011's checks refuse what the
// domain refuses, as the last line of defence.
func TestTheDatabaseHoldsTheArrearsRules(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	f.approvedMonthForTopUp(t, "U12345", "2025-04", map[string]int64{"cc-1": 250000})
	f.setRate(t, "care-coordinator", "2025-04-01", 4015000)
	f.payArrears(t, "U12345", "2025-04-s1", "cc-1", 10000, 0, 0, "2025-08-05")
	for _, tt := range []struct{ name, set, constraint string }{
		{"negative arrears", "arrears_employer_ni_pence = -1", "claim_lines_arrears_ni_range"},
		{"claiming more than the rule", "reimbursable_pence = 20000", "claim_lines_reimbursement_rule"},
		{"claimed without arrears", "arrears_gross_salary_pence = 0, reimbursable_pence = 0", "claim_lines_arrears_dated"},
		{"unchosen but claiming", "arrears_gross_salary_pence = 0, arrears_paid_date = NULL", "claim_lines_reimbursement_rule"},
		{"paid before the month", "arrears_paid_date = '2025-03-31'", "claim_lines_arrears_after_month"},
	} {
		_, err := f.store.DB().ExecContext(f.ctx, `UPDATE claim_lines SET `+tt.set+` WHERE pcn_code = 'U12345' AND claim_id = '2025-04-s1'`)
		if err == nil || !strings.Contains(err.Error(), tt.constraint) {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.constraint)
		}
	}
	_, err := f.store.DB().ExecContext(f.ctx, `UPDATE claims SET state = 'submitted', submit_time = now(), submitter = 'x'
		WHERE pcn_code = 'U12345' AND id = '2025-04-s1'`)
	if err == nil || !strings.Contains(err.Error(), "claims_arrears_declared") {
		t.Errorf("a top-up submitted without the declaration: %v", err)
	}
}
