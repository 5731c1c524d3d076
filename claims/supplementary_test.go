package claims_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"arrs.nhs.uk/arrs/claims"
)

// The care co-ordinator's £36,500 a year from newClaimsFixture is £100 a day:
// April 2025 (30 days) at 1.0 WTE caps at 3650000 × 30 ÷ 365 = 300000p and
// May (31 days) at 310000p. The sums below follow ComputeCap:
// Σ(annual × days) × WTE ÷ 365, rounded half up once.

var (
	topUpApprover = claims.WithActor(context.Background(), claims.Actor{Subject: "approver:priya",
		Role: claims.RoleCommissionerApprover, OrgKind: claims.OrgCommissioner, OrgCode: "QNQ"})
	topUpFinance = claims.WithActor(context.Background(), claims.Actor{Subject: "finance:tom",
		Role: claims.RoleCommissionerFinance, OrgKind: claims.OrgCommissioner, OrgCode: "QNQ"})
)

// approvedMonthForTopUp drafts pcn's claim for month m, records each post's
// gross pay, submits it (as system:test) and has the commissioner's approver
// approve it, with any adjustments.
func (f claimsFixture) approvedMonthForTopUp(t *testing.T, pcn, m string, gross map[string]int64, adj ...claims.LineAdjustment) claims.Claim {
	t.Helper()
	must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, pcn, month(t, m)))
	for post, pence := range gross {
		must(t)(f.store.UpdateClaimLine(f.ctx, pcn, m, post, "", func(l *claims.ClaimLine) { l.GrossSalary = pence }))
	}
	must(t)(f.store.SubmitClaim(f.ctx, claims.Request{}, pcn, m, ""))
	c, err := f.store.ApproveClaim(topUpApprover, claims.Request{}, pcn, m, "", adj)
	if err != nil {
		t.Fatalf("approve %s %s: %v", pcn, m, err)
	}
	return c
}

// topUps returns every supplementary claim, with its lines, by name.
func (f claimsFixture) topUps(t *testing.T) map[string]claims.Claim {
	t.Helper()
	list, _, err := f.store.ListClaims(f.ctx, claims.ClaimFilter{}, claims.Page{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]claims.Claim{}
	for _, c := range list {
		if c.Kind == "supplementary" {
			full, err := f.store.GetClaim(f.ctx, c.PCNCode, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			out[c.Name()] = full
		}
	}
	return out
}

// setRate corrects the amount of a stored rate.
func (f claimsFixture) setRate(t *testing.T, role, effective string, pence int64) {
	t.Helper()
	must(t)(f.store.UpdateRate(f.ctx, role, day(t, effective), "", func(r *claims.Rate) { r.NationalPence = pence }))
}

// wantTopUpLine checks an offered supplementary line's cap, what it says was
// already paid and its maximum top-up (cap − already paid); until the PCN
// records the arrears it paid, it reimburses nothing.
func wantTopUpLine(t *testing.T, c claims.Claim, post string, capPence, alreadyPaid, maximum int64) claims.ClaimLine {
	t.Helper()
	l := wantArrearsLine(t, c, post, capPence, alreadyPaid, maximum, 0)
	if l.Arrears.Paid() {
		t.Errorf("%s line %s records arrears %+v, want none yet", c.Name(), post, l.Arrears)
	}
	return l
}

// wantArrearsLine checks a supplementary line's cap, already paid, maximum
// top-up and what it reimburses.
func wantArrearsLine(t *testing.T, c claims.Claim, post string, capPence, alreadyPaid, maximum, reimbursable int64) claims.ClaimLine {
	t.Helper()
	for _, l := range c.Lines {
		if l.PostID == post {
			if l.CapPence != capPence || l.AlreadyPaidPence != alreadyPaid || l.MaxTopUpPence() != maximum ||
				l.ReimbursablePence != reimbursable || l.ApprovedPence != nil {
				t.Errorf("%s line %s: cap %d, already paid %d, maximum %d, reimbursable %d, approved %v; want %d, %d, %d, %d, none",
					c.Name(), post, l.CapPence, l.AlreadyPaidPence, l.MaxTopUpPence(), l.ReimbursablePence, l.ApprovedPence,
					capPence, alreadyPaid, maximum, reimbursable)
			}
			return l
		}
	}
	t.Errorf("%s has no line for %s: %+v", c.Name(), post, c.Lines)
	return claims.ClaimLine{}
}

// payArrears records on a top-up's line the arrears the PCN paid the staff
// member (gross, NI, pension) and the day it paid them.
func (f claimsFixture) payArrears(t *testing.T, pcn, id, post string, gross, ni, pension int64, paid string) claims.ClaimLine {
	t.Helper()
	l, err := f.store.UpdateClaimLine(f.ctx, pcn, id, post, "", func(l *claims.ClaimLine) {
		l.Arrears = claims.Arrears{GrossSalary: gross, EmployerNI: ni, EmployerPension: pension, PaidDate: day(t, paid)}
	})
	if err != nil {
		t.Fatalf("arrears on %s %s %s: %v", pcn, id, post, err)
	}
	return l
}

// declareAndSubmit submits a top-up with the declaration that its arrears
// were paid, and has the commissioner approve it as claimed.
func (f claimsFixture) declareAndApprove(t *testing.T, pcn, id string) claims.Claim {
	t.Helper()
	must(t)(f.store.DeclareArrearsAndSubmit(f.ctx, claims.Request{}, pcn, id, ""))
	c, err := f.store.ApproveClaim(topUpApprover, claims.Request{}, pcn, id, "", nil)
	if err != nil {
		t.Fatalf("approve %s %s: %v", pcn, id, err)
	}
	return c
}

func auditActions(t *testing.T, f claimsFixture, resource string) string {
	t.Helper()
	events, _, err := f.store.ListAuditEvents(f.ctx, resource, claims.Page{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	return strings.Join(actions, " ")
}

func TestABackdatedAwardOffersADraftTopUpForAnApprovedMonth(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	// April cost 330000p against the 300000p cap: 300000p was claimed and approved.
	april := f.approvedMonthForTopUp(t, "U12345", "2025-04", map[string]int64{"cc-1": 330000})
	if got := *april.Lines[0].ApprovedPence; got != 300000 {
		t.Fatalf("April approved at %d, want the 300000p cap", got)
	}

	// On 1 August the award is published, effective 1 April: £40,150 a year.
	// April's cap is now 4015000 × 30 ÷ 365 = 120,450,000 ÷ 365 = 330000p, so
	// the most April's top-up can reimburse is 330000 − 300000 = 30000p.
	must(t)(f.store.UpdateRate(f.ctx, "care-coordinator", day(t, "2025-04-01"), "", func(r *claims.Rate) {
		r.NationalPence, r.Source = 4015000, "2025/26 pay award, published 1 August 2025"
	}))
	offered := f.topUps(t)
	s, ok := offered["pcns/U12345/claims/2025-04-s1"]
	if len(offered) != 1 || !ok {
		t.Fatalf("supplementary claims = %v, want only pcns/U12345/claims/2025-04-s1", offered)
	}
	if s.State != claims.ClaimDraft || s.Kind != "supplementary" || s.Supplements == nil || *s.Supplements != "2025-04" ||
		s.Month.String() != "2025-04" || s.Year.String() != "2025-26" || s.CommissionerCode != "QNQ" || len(s.Lines) != 1 {
		t.Fatalf("offered %+v", s)
	}
	l := wantTopUpLine(t, s, "cc-1", 330000, 300000, 30000)
	if l.GrossSalary != 330000 || l.WTE != dec(t, "1") || l.ActiveDays != 30 || l.DaysInYear != 365 || len(l.Segments) != 1 ||
		l.Segments[0].AnnualMaxPence != 4015000 || l.RoleID != "care-coordinator" {
		t.Errorf("the line copies the monthly costs and has the new cap: %+v", l)
	}
	if got := auditActions(t, f, s.Name()); got != "offer" {
		t.Errorf("audit of %s = %q, want offer", s.Name(), got)
	}
	if m, _ := f.store.GetClaim(f.ctx, "U12345", "2025-04"); m.State != claims.ClaimApproved || *m.Lines[0].ApprovedPence != 300000 {
		t.Errorf("the monthly claim changed: %+v", m)
	}

	// The PCN pays the arrears, £250 gross + £25 NI + £50 pension = 32500p:
	// min(330000 + 32500, 330000) − 300000 = 30000p, the maximum.
	l = f.payArrears(t, "U12345", "2025-04-s1", "cc-1", 25000, 2500, 5000, "2025-08-05")
	if l.ReimbursablePence != 30000 || l.GrossSalary != 330000 {
		t.Errorf("with the arrears paid: %+v", l)
	}
	// The top-up goes through submission, against the entitlement, and review.
	must(t)(f.store.DeclareArrearsAndSubmit(f.ctx, claims.Request{}, "U12345", "2025-04-s1", ""))
	b, err := f.store.GetBudget(f.ctx, "U12345", 2025)
	if err != nil || b.ApprovedPence != 300000 || b.SubmittedPence != 30000 || b.DraftPence != 0 {
		t.Errorf("budget with the top-up submitted = %+v, %v", b, err)
	}
	_, err = f.store.ApproveClaim(claims.WithActor(context.Background(), claims.Actor{Subject: "system:test",
		Role: claims.RoleCommissionerApprover, OrgKind: claims.OrgCommissioner, OrgCode: "QNQ"}), claims.Request{}, "U12345", "2025-04-s1", "", nil)
	wantKind(t, err, claims.KindPermissionDenied) // four eyes
	if _, err := f.store.ApproveClaim(topUpApprover, claims.Request{}, "U12345", "2025-04-s1", "", nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := f.store.GetBudget(f.ctx, "U12345", 2025); b.ApprovedPence != 330000 {
		t.Errorf("approved after the top-up = %d, want 330000", b.ApprovedPence)
	}

	// Writing the same rate again (a corrected source) owes nothing more.
	must(t)(f.store.UpdateRate(f.ctx, "care-coordinator", day(t, "2025-04-01"), "", func(r *claims.Rate) { r.Source = "NHS England, 1 August 2025" }))
	if n := len(f.topUps(t)); n != 1 {
		t.Errorf("%d supplementary claims after an unchanged rate, want 1", n)
	}
}

func TestAMidMonthAwardOffersPartialTopUpsForEveryPCNAndMonth(t *testing.T) {
	// Payments are recorded on or after the (real) approval date and not in
	// the future, so this fixture stands on tomorrow.
	today := time.Now().AddDate(0, 0, 1).Format(time.DateOnly)
	f := newClaimsFixture(t, today, "100000")
	must(t)(f.store.CreatePCN(f.ctx, claims.Request{}, pcn("U54321", "B81001")))
	must(t)(f.store.CreateEntitlement(f.ctx, claims.Request{}, claims.Entitlement{PCNCode: "U54321", Year: 2025, WeightedPopulation: dec(t, "100000")}))
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, claims.Post{PCNCode: "U54321", ID: "cc-2", RoleID: "care-coordinator",
		StaffName: "Sam Reed", WTE: dec(t, "1"), StartDate: day(t, "2025-04-01")}))
	// U12345: April cost 330000p, approved at the 300000p cap; May cost
	// 330000p, approved at its 310000p cap and paid. U54321: April cost
	// 305000p, approved at 300000p.
	f.approvedMonthForTopUp(t, "U12345", "2025-04", map[string]int64{"cc-1": 330000})
	f.approvedMonthForTopUp(t, "U12345", "2025-05", map[string]int64{"cc-1": 330000})
	must(t)(f.store.RecordClaimPayment(topUpFinance, claims.Request{}, "U12345", "2025-05", "", claims.Payment{Date: day(t, today), Reference: "REM-2025-05"}))
	f.approvedMonthForTopUp(t, "U54321", "2025-04", map[string]int64{"cc-2": 305000})

	// £40,150 a year from 16 April. April: 15 days at £36,500 and 15 at
	// £40,150 → (3650000 × 15 + 4015000 × 15) ÷ 365 = (54,750,000 +
	// 60,225,000) ÷ 365 = 114,975,000 ÷ 365 = 315000p. May, all at £40,150:
	// 4015000 × 31 ÷ 365 = 124,465,000 ÷ 365 = 341000p.
	must(t)(f.store.CreateRate(f.ctx, claims.Request{}, claims.Rate{RoleID: "care-coordinator", EffectiveDate: day(t, "2025-04-16"), NationalPence: 4015000}))
	offered := f.topUps(t)
	if len(offered) != 3 {
		t.Fatalf("supplementary claims = %v, want three", offered)
	}
	// U12345 April: 315000 − 300000 = 15000p at most.
	a := wantTopUpLine(t, offered["pcns/U12345/claims/2025-04-s1"], "cc-1", 315000, 300000, 15000)
	if len(a.Segments) != 2 || a.Segments[0].Days != 15 || a.Segments[0].AnnualMaxPence != 3650000 || a.Segments[1].AnnualMaxPence != 4015000 {
		t.Errorf("April segments = %+v", a.Segments)
	}
	// U12345 May (paid): 341000 − 310000 = 31000p at most; its cost was
	// 330000p, so the old rule's min(330000, 341000) − 310000 offered
	// 20000p whatever arrears were paid.
	may := offered["pcns/U12345/claims/2025-05-s1"]
	wantTopUpLine(t, may, "cc-1", 341000, 310000, 31000)
	if may.Supplements == nil || *may.Supplements != "2025-05" || may.State != claims.ClaimDraft {
		t.Errorf("May's top-up = %+v", may)
	}
	// U54321 April: 315000 − 300000 = 15000p at most.
	wantTopUpLine(t, offered["pcns/U54321/claims/2025-04-s1"], "cc-2", 315000, 300000, 15000)
}

func TestNoTopUpIsOfferedWhereNothingIsOwed(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, ot(t, "ot-1", "Owen Pritchard", "OT65432", "1", "2025-04-01")))
	// April is approved: the co-ordinator cost 250000p, under the cap; the
	// OT 600000p, over its 6697200 × 30 ÷ 365 = 550454.79… → 550455p cap.
	f.approvedMonthForTopUp(t, "U12345", "2025-04", map[string]int64{"cc-1": 250000, "ot-1": 600000})
	// May is a draft, June submitted, July withdrawn: all over the cap.
	for _, m := range []string{"2025-05", "2025-06", "2025-07"} {
		must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, m)))
		f.pay(t, m, "cc-1", 400000)
	}
	must(t)(f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-06", ""))
	must(t)(f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-07", ""))
	must(t)(f.store.WithdrawClaim(f.ctx, "U12345", "2025-07", "", "payroll error"))

	// A rate taking effect in the future owes nothing yet.
	must(t)(f.store.CreateRate(f.ctx, claims.Request{}, claims.Rate{RoleID: "care-coordinator", EffectiveDate: day(t, "2025-09-01"), NationalPence: 5000000}))
	// A backdated co-ordinator award, 4380000 × 30 ÷ 365 = 360000p a
	// 30-day month: May is a draft (it will be capped when submitted), July
	// withdrawn, and the OT's line is another role's. April's co-ordinator
	// cost 250000p, under the old cap, yet may have been paid arrears: at
	// most 360000 − 250000 = 110000p. June, awaiting review, was claimed at
	// the old cap: at most 360000 − 300000 = 60000p, once June is approved.
	f.setRate(t, "care-coordinator", "2025-04-01", 4380000)
	got := f.topUps(t)
	june, ok := got["pcns/U12345/claims/2025-06-s1"]
	if len(got) != 2 || !ok || len(got["pcns/U12345/claims/2025-04-s1"].Lines) != 1 {
		t.Fatalf("supplementary claims = %v, want June's and April's, April's with the co-ordinator only", got)
	}
	wantTopUpLine(t, got["pcns/U12345/claims/2025-04-s1"], "cc-1", 360000, 250000, 110000)
	wantTopUpLine(t, june, "cc-1", 360000, 300000, 60000)
	_, err := f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-06-s1", "")
	wantReason(t, err, claims.KindFailedPrecondition, "MONTH_NOT_APPROVED")

	// An OT award from 16 April joins April's draft with the OT's line:
	// (6697200 × 15 + 7300000 × 15) ÷ 365 = 209,958,000 ÷ 365 = 575227.39…
	// → 575227p cap; at most 575227 − 550455 = 24772p.
	must(t)(f.store.CreateRate(f.ctx, claims.Request{}, claims.Rate{RoleID: "occupational-therapist", EffectiveDate: day(t, "2025-04-16"), NationalPence: 7300000}))
	got = f.topUps(t)
	s := got["pcns/U12345/claims/2025-04-s1"]
	if len(got) != 2 || len(s.Lines) != 2 {
		t.Fatalf("supplementary claims = %v, want June's and April's, April's with both lines", got)
	}
	wantTopUpLine(t, s, "ot-1", 575227, 550455, 24772)
}

func TestASecondAwardRefreshesTheDraftTopUpAndLaterAwardsTopUpAgain(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	// April cost 400000p; 300000p (the cap) was approved.
	f.approvedMonthForTopUp(t, "U12345", "2025-04", map[string]int64{"cc-1": 400000})

	// £40,150 from 1 April: cap 330000p (as above); 330000 − 300000 = 30000p.
	f.setRate(t, "care-coordinator", "2025-04-01", 4015000)
	s1 := f.topUps(t)["pcns/U12345/claims/2025-04-s1"]
	wantTopUpLine(t, s1, "cc-1", 330000, 300000, 30000)
	// The PCN attaches the award letter to the draft, and records £500 of
	// arrears paid: min(400000 + 50000, 330000) − 300000 = 30000p.
	must(t)(f.store.UpdateClaimLine(f.ctx, "U12345", "2025-04-s1", "cc-1", "", func(l *claims.ClaimLine) {
		l.EvidenceURIs = append(l.EvidenceURIs, "https://payroll.example/award-letter")
	}))
	f.payArrears(t, "U12345", "2025-04-s1", "cc-1", 50000, 0, 0, "2025-08-05")

	// While it is a draft, a further award from 16 April at £43,800:
	// (4015000 × 15 + 4380000 × 15) ÷ 365 = (60,225,000 + 65,700,000) ÷ 365
	// = 125,925,000 ÷ 365 = 345000p; at most 345000 − 300000 = 45000p. The
	// draft is refreshed, not joined by an s2, and keeps the PCN's evidence
	// and arrears, which now claim min(450000, 345000) − 300000 = 45000p.
	must(t)(f.store.CreateRate(f.ctx, claims.Request{}, claims.Rate{RoleID: "care-coordinator", EffectiveDate: day(t, "2025-04-16"), NationalPence: 4380000}))
	offered := f.topUps(t)
	refreshed := offered["pcns/U12345/claims/2025-04-s1"]
	if len(offered) != 1 || refreshed.State != claims.ClaimDraft || refreshed.Revision <= s1.Revision {
		t.Fatalf("after the second award: %v", offered)
	}
	l := wantArrearsLine(t, refreshed, "cc-1", 345000, 300000, 45000, 45000)
	if len(l.Segments) != 2 || len(l.EvidenceURIs) != 1 || l.Arrears.GrossSalary != 50000 {
		t.Errorf("refreshed line: segments %+v, evidence %v", l.Segments, l.EvidenceURIs)
	}
	if got := auditActions(t, f, refreshed.Name()); got != "offer update update offer" {
		t.Errorf("audit of %s = %q", refreshed.Name(), got)
	}

	// s1 is submitted and approved; then the 16 April rate is corrected to
	// £47,450: (60,225,000 + 4745000 × 15 = 71,175,000) ÷ 365 = 131,400,000
	// ÷ 365 = 360000p. Already reimbursed: 300000 + 45000 = 345000p, so s2
	// can ask for 15000p at most.
	f.declareAndApprove(t, "U12345", "2025-04-s1")
	f.setRate(t, "care-coordinator", "2025-04-16", 4745000)
	offered = f.topUps(t)
	if offered["pcns/U12345/claims/2025-04-s1"].State != claims.ClaimApproved || len(offered) != 2 {
		t.Fatalf("after the correction: %v", offered)
	}
	s2 := offered["pcns/U12345/claims/2025-04-s2"]
	wantTopUpLine(t, s2, "cc-1", 360000, 345000, 15000)
	if s2.Supplements == nil || *s2.Supplements != "2025-04" {
		t.Errorf("s2 supplements %v", s2.Supplements)
	}

	// s2 is submitted but not yet reviewed when the rate is corrected again,
	// to £51,100: (60,225,000 + 5110000 × 15 = 76,650,000) ÷ 365 =
	// 136,875,000 ÷ 365 = 375000p. s2's pending 15000p counts as settled, so
	// s3 asks for 375000 − (300000 + 45000 + 15000) = 15000p, not 30000p:
	// approving all three pays 375000p in all, the new cap, and no more.
	// (s2's arrears are all those paid for April, £650 with s1's £500:
	// min(400000 + 65000, 360000) − 345000 = 15000p.)
	f.payArrears(t, "U12345", "2025-04-s2", "cc-1", 65000, 0, 0, "2025-08-08")
	must(t)(f.store.DeclareArrearsAndSubmit(f.ctx, claims.Request{}, "U12345", "2025-04-s2", ""))
	f.setRate(t, "care-coordinator", "2025-04-16", 5110000)
	wantTopUpLine(t, f.topUps(t)["pcns/U12345/claims/2025-04-s3"], "cc-1", 375000, 360000, 15000)
}

func TestADraftTopUpNoLongerOwedIsWithdrawn(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	f.approvedMonthForTopUp(t, "U12345", "2025-04", map[string]int64{"cc-1": 330000})
	f.setRate(t, "care-coordinator", "2025-04-01", 4015000) // 30000p owed, as above
	// The award was entered against the wrong role: corrected back, nothing
	// is owed and the draft is withdrawn.
	f.setRate(t, "care-coordinator", "2025-04-01", 3650000)
	s1 := f.topUps(t)["pcns/U12345/claims/2025-04-s1"]
	if s1.State != claims.ClaimWithdrawn || s1.WithdrawReason == "" || len(s1.Lines) != 0 {
		t.Fatalf("s1 = %+v", s1)
	}
	if got := auditActions(t, f, s1.Name()); got != "offer withdraw" {
		t.Errorf("audit of s1 = %q", got)
	}
	// The right award, £38,325: 3832500 × 30 ÷ 365 = 114,975,000 ÷ 365 =
	// 315000p; 15000p owed, offered as s2.
	f.setRate(t, "care-coordinator", "2025-04-01", 3832500)
	wantTopUpLine(t, f.topUps(t)["pcns/U12345/claims/2025-04-s2"], "cc-1", 315000, 300000, 15000)
}

func TestTopUpsForTwoRolesShareTheMonthsDraft(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, ot(t, "ot-1", "Owen Pritchard", "OT65432", "1", "2025-04-01")))
	f.approvedMonthForTopUp(t, "U12345", "2025-04", map[string]int64{"cc-1": 330000, "ot-1": 600000})
	f.setRate(t, "care-coordinator", "2025-04-01", 4015000) // co-ordinator owed 30000p
	before := f.topUps(t)["pcns/U12345/claims/2025-04-s1"]
	// The OT award from 16 April (24772p owed, as above) joins the same draft
	// and leaves the co-ordinator's line alone.
	must(t)(f.store.CreateRate(f.ctx, claims.Request{}, claims.Rate{RoleID: "occupational-therapist", EffectiveDate: day(t, "2025-04-16"), NationalPence: 7300000}))
	offered := f.topUps(t)
	s1 := offered["pcns/U12345/claims/2025-04-s1"]
	if len(offered) != 1 || len(s1.Lines) != 2 {
		t.Fatalf("supplementary claims = %v", offered)
	}
	cc := wantTopUpLine(t, s1, "cc-1", 330000, 300000, 30000)
	wantTopUpLine(t, s1, "ot-1", 575227, 550455, 24772)
	if cc.Revision != before.Lines[0].Revision {
		t.Errorf("the co-ordinator's line was rewritten: revision %d → %d", before.Lines[0].Revision, cc.Revision)
	}
}

func TestATopUpCountsAgainstTheEntitlement(t *testing.T) {
	// £26.631 × 120 weighted patients = £3,195.72 = 319572p.
	f := newClaimsFixture(t, "2025-08-10", "120")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	f.approvedMonthForTopUp(t, "U12345", "2025-04", map[string]int64{"cc-1": 330000}) // 300000p
	f.setRate(t, "care-coordinator", "2025-04-01", 4015000)                           // 30000p at most
	f.payArrears(t, "U12345", "2025-04-s1", "cc-1", 30000, 0, 0, "2025-08-05")        // min(360000, 330000) − 300000 = 30000p
	_, err := f.store.DeclareArrearsAndSubmit(f.ctx, claims.Request{}, "U12345", "2025-04-s1", "")
	wantReason(t, err, claims.KindFailedPrecondition, "ENTITLEMENT_EXCEEDED")
	if !strings.Contains(err.Error(), "£195.72") {
		t.Errorf("message %q does not say that 319572 − 300000 = 19572p remains", err)
	}
}

func TestACommissionersCutIsNotAskedForAgain(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	// April claimed 300000p (the cap on 330000p of cost); the commissioner
	// approved 250000p.
	april := f.approvedMonthForTopUp(t, "U12345", "2025-04", map[string]int64{"cc-1": 330000},
		claims.LineAdjustment{PostID: "cc-1", ApprovedPence: 250000, Reason: "employer pension not evidenced"})
	if *april.Lines[0].ApprovedPence != 250000 {
		t.Fatalf("approved %d", *april.Lines[0].ApprovedPence)
	}
	// Rewriting the rate unchanged must not reopen the 50000p cut...
	must(t)(f.store.UpdateRate(f.ctx, "care-coordinator", day(t, "2025-04-01"), "", func(r *claims.Rate) { r.Source = "corrected source" }))
	if got := f.topUps(t); len(got) != 0 {
		t.Fatalf("an unchanged rate offered %v", got)
	}
	// ...and the award tops up only what the higher cap adds: the 300000p
	// claimed counts as settled, so at most 330000 − 300000 = 30000p, not
	// 80000p.
	f.setRate(t, "care-coordinator", "2025-04-01", 4015000)
	wantTopUpLine(t, f.topUps(t)["pcns/U12345/claims/2025-04-s1"], "cc-1", 330000, 300000, 30000)
}

// TestTheDatabaseHoldsTheTopUpRule: 00007 replaces the monthly-only rule
// reimbursable = min(actual, cap) with claim_lines_reimbursement_rule, which
// subtracts already_paid_pence. Were the old rule still in force, no top-up
// line could be stored, and a backdated rate could not be written at all
// while an approved month was owed one.
func TestTheDatabaseHoldsTheTopUpRule(t *testing.T) {
	f := newFixture(t)
	var checks []struct {
		Name string `db:"conname"`
		Def  string `db:"def"`
	}
	if err := f.store.DB().SelectContext(f.ctx, &checks, `SELECT conname, pg_get_constraintdef(oid) AS def
		FROM pg_constraint WHERE conrelid = 'claim_lines'::regclass AND contype = 'c' ORDER BY conname`); err != nil {
		t.Fatal(err)
	}
	absence := false
	for _, c := range checks {
		if strings.Contains(c.Def, "reimbursable_pence = LEAST(") {
			t.Errorf("%s still holds the monthly-only rule, which refuses every top-up line: %s", c.Name, c.Def)
		}
		absence = absence || strings.Contains(c.Def, "absence_adjustment_pence <= gross_salary_pence")
	}
	if !absence {
		t.Error("no check keeps the absence adjustment within the gross salary (00006's claim_lines_check)")
	}
}

func TestNoTopUpIsOfferedOnceTheYearsClaimsHaveClosed(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	must(t)(f.store.CreateFundingYear(f.ctx, claims.Request{}, claims.FundingYear{Year: 2024, RatePerWeightedPatient: 228940}))
	must(t)(f.store.CreateEntitlement(f.ctx, claims.Request{}, claims.Entitlement{PCNCode: "U12345", Year: 2024, WeightedPopulation: dec(t, "100000")}))
	must(t)(f.store.CreateRate(f.ctx, claims.Request{}, claims.Rate{RoleID: "care-coordinator", EffectiveDate: day(t, "2024-04-01"), NationalPence: 3650000}))
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-03-01")))
	// March 2025 (31 days) cost 330000p against 3650000 × 31 ÷ 365 = 310000p.
	f.approvedMonthForTopUp(t, "U12345", "2025-03", map[string]int64{"cc-1": 330000})
	// 2024-25's claims closed on 30 June 2025: a later award for it owes
	// nothing through arrs, though March's cap would now be 4015000 × 31 ÷
	// 365 = 341000p.
	must(t)(f.store.UpdateFundingYear(f.ctx, 2024, "", func(y *claims.FundingYear) { y.ClaimsDeadline = day(t, "2025-06-30") }))
	f.setRate(t, "care-coordinator", "2024-04-01", 4015000)
	if got := f.topUps(t); len(got) != 0 {
		t.Fatalf("supplementary claims = %v, want none", got)
	}
	// With the deadline moved to 31 August, the award written again offers
	// at most 341000 − 310000 = 31000p.
	must(t)(f.store.UpdateFundingYear(f.ctx, 2024, "", func(y *claims.FundingYear) { y.ClaimsDeadline = day(t, "2025-08-31") }))
	f.setRate(t, "care-coordinator", "2024-04-01", 4015000)
	wantTopUpLine(t, f.topUps(t)["pcns/U12345/claims/2025-03-s1"], "cc-1", 341000, 310000, 31000)
}

func TestTwoAwardsWrittenAtOnceShareOneDraft(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, ot(t, "ot-1", "Owen Pritchard", "OT65432", "1", "2025-04-01")))
	f.approvedMonthForTopUp(t, "U12345", "2025-04", map[string]int64{"cc-1": 330000, "ot-1": 600000})
	// Both awards lock April's approved claim before looking for its draft,
	// so whichever writes second finds the first's s1 and joins it.
	var wg sync.WaitGroup
	for _, write := range []func() error{
		func() error {
			_, err := f.store.UpdateRate(f.ctx, "care-coordinator", day(t, "2025-04-01"), "", func(r *claims.Rate) { r.NationalPence = 4015000 })
			return err
		},
		func() error {
			_, err := f.store.CreateRate(f.ctx, claims.Request{}, claims.Rate{RoleID: "occupational-therapist", EffectiveDate: day(t, "2025-04-16"), NationalPence: 7300000})
			return err
		},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := write(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	offered := f.topUps(t)
	s1 := offered["pcns/U12345/claims/2025-04-s1"]
	if len(offered) != 1 || len(s1.Lines) != 2 {
		t.Fatalf("supplementary claims = %v, want one s1 with both lines", offered)
	}
	wantTopUpLine(t, s1, "cc-1", 330000, 300000, 30000)
	wantTopUpLine(t, s1, "ot-1", 575227, 550455, 24772)
}

// TestAPreviewShowsTheTopUpsCreatingARateWouldOffer: a care co-ordinator
// (£36,500 a year, £100 a day) cost 340000p in May and 335000p in June,
// approved at the caps, 310000p and 300000p. A rate of £40,150 from 16 May
// is previewed on 10 August:
//
//	May:  (3650000 × 15 + 4015000 × 16) ÷ 365 = 118,990,000 ÷ 365 = 326000p;
//	      at most 326000 − 310000 settled = 16000p
//	June: 4015000 × 30 ÷ 365 = 330000p; at most 330000 − 300000 = 30000p
//
// April, before the rate, owes nothing. The preview writes nothing, and
// creating the rate then offers exactly what it showed.
func TestAPreviewShowsTheTopUpsCreatingARateWouldOffer(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	f.approvedMonthForTopUp(t, "U12345", "2025-04", map[string]int64{"cc-1": 330000})
	f.approvedMonthForTopUp(t, "U12345", "2025-05", map[string]int64{"cc-1": 340000})
	f.approvedMonthForTopUp(t, "U12345", "2025-06", map[string]int64{"cc-1": 335000})
	award := claims.Rate{RoleID: "care-coordinator", EffectiveDate: day(t, "2025-05-16"), NationalPence: 4015000}

	auditBefore := auditActions(t, f, "")
	preview, err := f.store.PreviewRateTopUps(f.ctx, award)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		claim string
		pence int64
	}{{"pcns/U12345/claims/2025-05", 16000}, {"pcns/U12345/claims/2025-06", 30000}}
	if len(preview) != len(want) {
		t.Fatalf("preview = %+v, want %v", preview, want)
	}
	for i, w := range want {
		if preview[i].Claim() != w.claim || preview[i].Pence() != w.pence || len(preview[i].Lines) != 1 {
			t.Errorf("preview %d = %s %d (%d lines), want %s %d", i, preview[i].Claim(), preview[i].Pence(), len(preview[i].Lines), w.claim, w.pence)
		}
	}
	if l := preview[0].Lines[0]; l.CapPence != 326000 || l.AlreadyPaidPence != 310000 || len(l.Segments) != 2 {
		t.Errorf("May's line: cap %d, already paid %d, %d segments; want 326000, 310000, 2 (the uplift mid-month)", l.CapPence, l.AlreadyPaidPence, len(l.Segments))
	}

	// Nothing was written: no rate, no offer, no audit event.
	if _, err := f.store.GetRate(f.ctx, "care-coordinator", award.EffectiveDate); !claims.IsKind(err, claims.KindNotFound) {
		t.Errorf("the previewed rate was stored: %v", err)
	}
	if got := f.topUps(t); len(got) != 0 {
		t.Errorf("the preview offered %v", got)
	}
	if got := auditActions(t, f, ""); got != auditBefore {
		t.Errorf("the preview appended audit events: %q, was %q", got, auditBefore)
	}

	// Creating the rate offers what the preview showed, line for line.
	must(t)(f.store.CreateRate(f.ctx, claims.Request{}, award))
	offered := f.topUps(t)
	if len(offered) != len(preview) {
		t.Fatalf("offered %d top-ups, previewed %d", len(offered), len(preview))
	}
	for _, p := range preview {
		s, ok := offered[p.Claim()+"-s1"]
		if !ok {
			t.Errorf("%s-s1 was not offered", p.Claim())
			continue
		}
		for _, l := range p.Lines {
			wantTopUpLine(t, s, l.PostID, l.CapPence, l.AlreadyPaidPence, l.MaxTopUpPence())
		}
	}
}

// TestAPreviewIsRefusedAsCreatingTheRateWouldBe: the same checks as
// CreateRate, so no preview is shown for a rate that cannot be saved; and a
// rate from after today offers nothing yet.
func TestAPreviewIsRefusedAsCreatingTheRateWouldBe(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	pcn := claims.WithActor(context.Background(), claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U12345"})
	for _, tt := range []struct {
		name   string
		ctx    context.Context
		rate   claims.Rate
		kind   claims.Kind
		reason string
	}{
		{"a PCN", pcn, claims.Rate{RoleID: "care-coordinator", EffectiveDate: day(t, "2025-05-16"), NationalPence: 4015000}, claims.KindPermissionDenied, "PERMISSION_DENIED"},
		{"no amount", f.ctx, claims.Rate{RoleID: "care-coordinator", EffectiveDate: day(t, "2025-05-16")}, claims.KindInvalid, "INVALID_ARGUMENT"},
		{"no such role", f.ctx, claims.Rate{RoleID: "astronaut", EffectiveDate: day(t, "2025-05-16"), NationalPence: 4015000}, claims.KindNotFound, "RESOURCE_NOT_FOUND"},
		{"a date taken", f.ctx, claims.Rate{RoleID: "care-coordinator", EffectiveDate: day(t, "2025-04-01"), NationalPence: 4015000}, claims.KindAlreadyExists, "RESOURCE_EXISTS"},
	} {
		_, err := f.store.PreviewRateTopUps(tt.ctx, tt.rate)
		if e, ok := claims.AsError(err); !ok || e.Kind != tt.kind || (tt.reason != "" && e.Reason != tt.reason) {
			t.Errorf("%s: %v, want kind %d reason %s", tt.name, err, tt.kind, tt.reason)
		}
	}
	future, err := f.store.PreviewRateTopUps(f.ctx, claims.Rate{RoleID: "care-coordinator", EffectiveDate: day(t, "2025-09-01"), NationalPence: 4015000})
	if err != nil || len(future) != 0 {
		t.Errorf("a rate from after today: %v, %v; want nothing owed yet", future, err)
	}
}
