package claims_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"arrs.nhs.uk/arrs/claims"
)

// claimsFixture is the store fixture standing on a given day, with 2025-26
// rates for occupational therapists and care co-ordinators, and Riverside's
// entitlement for the year.
type claimsFixture struct {
	fixture
}

func newClaimsFixture(t *testing.T, today string, population string) claimsFixture {
	t.Helper()
	return claimsFixtureOf(t, newFixture(t), today, population)
}

// claimsFixtureOf makes f, a fresh fixture, into a claimsFixture.
func claimsFixtureOf(t *testing.T, f fixture, today string, population string) claimsFixture {
	t.Helper()
	now, err := time.Parse(time.DateOnly, today)
	if err != nil {
		t.Fatal(err)
	}
	f.store = claims.NewStore(f.store.DB(), claims.WithClock(func() time.Time { return now.Add(12 * time.Hour) }))
	for _, r := range []claims.Rate{
		{RoleID: "occupational-therapist", EffectiveDate: day(t, "2025-04-01"), NationalPence: 6697200},
		// £36,500 a year is £100 a day in a 365-day year: easy sums.
		{RoleID: "care-coordinator", EffectiveDate: day(t, "2025-04-01"), NationalPence: 3650000},
	} {
		must(t)(f.store.CreateRate(f.ctx, claims.Request{}, r))
	}
	must(t)(f.store.CreateEntitlement(f.ctx, claims.Request{}, claims.Entitlement{PCNCode: "U12345", Year: 2025, WeightedPopulation: dec(t, population)}))
	return claimsFixture{f}
}

func month(t *testing.T, s string) claims.Month {
	t.Helper()
	m, err := claims.ParseMonth(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func careCoordinator(t *testing.T, id, name, start string) claims.Post {
	return claims.Post{PCNCode: "U12345", ID: id, RoleID: "care-coordinator", StaffName: name, WTE: dec(t, "1"), StartDate: day(t, start)}
}

// pay records gross salary on a line of a draft claim.
func (f claimsFixture) pay(t *testing.T, m, post string, gross int64) claims.ClaimLine {
	t.Helper()
	l, err := f.store.UpdateClaimLine(f.ctx, "U12345", m, post, "", func(l *claims.ClaimLine) { l.GrossSalary = gross })
	if err != nil {
		t.Fatalf("pay %s %s: %v", m, post, err)
	}
	return l
}

func wantReason(t *testing.T, err error, kind claims.Kind, reason string) {
	t.Helper()
	e, ok := claims.AsError(err)
	if !ok || e.Kind != kind || e.Reason != reason {
		t.Fatalf("got %v, want kind %d reason %s", err, kind, reason)
	}
}

func TestClaimIsPrefilledWithAPostsInPostAndSaysWhyOthersAreLeftOut(t *testing.T) {
	f := newClaimsFixture(t, "2025-06-10", "100000")
	for _, p := range []claims.Post{
		ot(t, "ot-starter", "Owen Pritchard", "OT65432", "0.6", "2025-04-17"),
		func() claims.Post {
			p := ot(t, "ot-baseline", "Graham Doyle", "OT11111", "1", "2018-06-01")
			p.Baseline = true
			return p
		}(),
		{PCNCode: "U12345", ID: "ot-planned", RoleID: "occupational-therapist", WTE: dec(t, "1"), StartDate: day(t, "2025-04-01")},
		func() claims.Post {
			p := ot(t, "ot-left", "Amy Hart", "OT22222", "1", "2024-01-01")
			p.EndDate = day(t, "2025-03-31")
			return p
		}(),
	} {
		must(t)(f.store.CreatePost(f.ctx, claims.Request{}, p))
	}
	c, err := f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-04"))
	if err != nil {
		t.Fatal(err)
	}
	if c.State != claims.ClaimDraft || len(c.Lines) != 1 || c.Lines[0].PostID != "ot-starter" {
		t.Fatalf("claim = %s with lines %+v", c.State, c.Lines)
	}
	// A starter on 17 April at 0.6 WTE: 14 days of April 2025 at £66,972:
	// 6697200 × 14 = 93,760,800; × 0.6 = 56,256,480; ÷ 365 = 154,127.34… → 154127p.
	if l := c.Lines[0]; l.CapPence != 154127 || l.ActiveDays != 14 || l.DaysInYear != 365 || l.ReimbursablePence != 0 {
		t.Errorf("line = cap %d, %d active days of %d, reimbursable %d", l.CapPence, l.ActiveDays, l.DaysInYear, l.ReimbursablePence)
	}
	excluded := map[string]string{}
	for _, e := range c.Excluded {
		excluded[e.PostID] = e.Reason
	}
	if fmt.Sprint(excluded) != "map[ot-baseline:BASELINE ot-planned:NOT_FILLED]" {
		t.Errorf("excluded = %v (a post that left before the month is not mentioned)", excluded)
	}
	_, err = f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-04"))
	wantKind(t, err, claims.KindAlreadyExists)
}

func TestClaimsAreInArrearsAndCloseAtTheYearsDeadline(t *testing.T) {
	f := newClaimsFixture(t, "2025-05-31", "100000")
	_, err := f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-05"))
	wantReason(t, err, claims.KindFailedPrecondition, "CLAIM_IN_ARREARS")
	if _, err := f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-04")); err != nil {
		t.Errorf("April, on 31 May: %v", err)
	}

	later := claims.NewStore(f.store.DB(), claims.WithClock(func() time.Time { return time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC) }))
	must(t)(later.UpdateFundingYear(f.ctx, 2025, "", func(y *claims.FundingYear) { y.ClaimsDeadline = day(t, "2026-06-30") }))
	_, err = later.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2026-03"))
	wantReason(t, err, claims.KindFailedPrecondition, "CLAIMS_DEADLINE_PASSED")
	_, err = later.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2026-04"))
	wantReason(t, err, claims.KindFailedPrecondition, "FINANCIAL_YEAR_NOT_OPEN")
	_, err = later.UpdateFundingYear(f.ctx, 2025, "", func(y *claims.FundingYear) { y.ClaimsDeadline = day(t, "2026-03-30") })
	wantViolation(t, err, "financial_year.claims_deadline", "DEADLINE_AFTER_YEAR")
}

func TestLineReimbursesWhatWasPaidUpToItsCap(t *testing.T) {
	f := newClaimsFixture(t, "2025-06-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-04")))
	// April at 1.0 WTE: 3650000 × 30 ÷ 365 = 300000p cap.
	tests := []struct {
		name  string
		costs claims.Costs
		want  int64
	}{
		// 250000 + 20000 + 20000 = 290000, under the cap: all of it.
		{"under the cap", claims.Costs{GrossSalary: 250000, EmployerNI: 20000, EmployerPension: 20000}, 290000},
		// 300000 + 30000 + 43140 = 373140, over the cap: the cap.
		{"over the cap", claims.Costs{GrossSalary: 300000, EmployerNI: 30000, EmployerPension: 43140}, 300000},
		// 300000 − 100000 half-pay sickness + 5000 + 5000 = 210000.
		{"reduced pay for sickness", claims.Costs{GrossSalary: 300000, EmployerNI: 5000, EmployerPension: 5000, AbsenceAdjustment: 100000}, 210000},
	}
	for _, tt := range tests {
		l, err := f.store.UpdateClaimLine(f.ctx, "U12345", "2025-04", "cc-1", "", func(l *claims.ClaimLine) {
			l.GrossSalary, l.EmployerNI, l.EmployerPension, l.AbsenceAdjustment = tt.costs.GrossSalary, tt.costs.EmployerNI, tt.costs.EmployerPension, tt.costs.AbsenceAdjustment
		})
		if err != nil || l.CapPence != 300000 || l.ReimbursablePence != tt.want {
			t.Errorf("%s: cap %d, reimbursable %d (%v); want 300000 and %d", tt.name, l.CapPence, l.ReimbursablePence, err, tt.want)
		}
	}
	c, _ := f.store.GetClaim(f.ctx, "U12345", "2025-04")
	bad := []struct {
		change      func(*claims.ClaimLine)
		field, rule string
	}{
		{func(l *claims.ClaimLine) { l.GrossSalary = -1 }, "claim_line.gross_salary_pence", ""},
		{func(l *claims.ClaimLine) { l.GrossSalary = 5_000_001 }, "claim_line.gross_salary_pence", ""},
		{func(l *claims.ClaimLine) { l.AbsenceAdjustment = l.GrossSalary + 1 }, "claim_line.absence_adjustment_pence", ""},
		{func(l *claims.ClaimLine) { l.Overtime = 5000 }, "claim_line.wte", "OVERTIME_NEEDS_WTE"},
		{func(l *claims.ClaimLine) { l.EvidenceURIs = []string{"http://payslips.example/1"} }, "claim_line.evidence_uris[0]", "EVIDENCE_URI"},
		{func(l *claims.ClaimLine) { l.WTE = dec(t, "1.1") }, "claim_line.wte", "WTE_RANGE"},
	}
	for _, b := range bad {
		_, err := f.store.UpdateClaimLine(f.ctx, "U12345", "2025-04", "cc-1", "", b.change)
		e, ok := claims.AsError(err)
		if !ok || e.Kind != claims.KindInvalid || !hasField(e, b.field, b.rule) {
			t.Errorf("bad line: %v, want a violation on %s %s", err, b.field, b.rule)
		}
	}
	after, _ := f.store.GetClaim(f.ctx, "U12345", "2025-04")
	if after.Revision != c.Revision || after.Lines[0].Revision != c.Lines[0].Revision {
		t.Errorf("bad input changed the claim: revision %d → %d", c.Revision, after.Revision)
	}
	_, err := f.store.UpdateClaimLine(f.ctx, "U12345", "2025-04", "cc-1", "stale", func(l *claims.ClaimLine) { l.GrossSalary = 1 })
	wantKind(t, err, claims.KindConflict)
	_, err = f.store.UpdateClaimLine(f.ctx, "U12345", "2025-04", "no-such-post", "", func(l *claims.ClaimLine) {})
	wantKind(t, err, claims.KindNotFound)
}

func hasField(e *claims.Error, field, rule string) bool {
	for _, v := range e.Violations {
		if v.Field == field && (rule == "" || v.Rule == rule) {
			return true
		}
	}
	return false
}

func TestSubmissionStaysWithinTheEntitlementAndSaysWhatRemains(t *testing.T) {
	// £26.631 × 20 weighted patients = £532.62 = 53262p.
	f := newClaimsFixture(t, "2025-07-10", "20")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	for _, m := range []string{"2025-04", "2025-05"} {
		must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, m)))
		f.pay(t, m, "cc-1", 30000)
	}
	c, err := f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-04", "")
	if err != nil || c.State != claims.ClaimSubmitted || c.Submitter != "system:test" || c.SubmitTime == nil {
		t.Fatalf("submit = %+v, %v", c, err)
	}
	_, err = f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-05", "")
	wantReason(t, err, claims.KindFailedPrecondition, "ENTITLEMENT_EXCEEDED")
	if !strings.Contains(err.Error(), "£232.62") {
		t.Errorf("message %q does not say that £232.62 remains", err)
	}
	b, err := f.store.GetBudget(f.ctx, "U12345", 2025)
	if err != nil {
		t.Fatal(err)
	}
	if b.EntitlementPence != 53262 || b.SubmittedPence != 30000 || b.DraftPence != 30000 || b.RemainingPence() != 23262 {
		t.Errorf("budget = %+v, remaining %d", b, b.RemainingPence())
	}
	_, err = f.store.UpdateClaimLine(f.ctx, "U12345", "2025-04", "cc-1", "", func(l *claims.ClaimLine) { l.GrossSalary = 1 })
	wantReason(t, err, claims.KindFailedPrecondition, "CLAIM_STATE")

	// Withdrawing the submitted month frees its share, and the month may be
	// drafted afresh.
	w, err := f.store.WithdrawClaim(f.ctx, "U12345", "2025-04", "", "payroll error")
	if err != nil || w.State != claims.ClaimWithdrawn || w.WithdrawReason != "payroll error" {
		t.Fatalf("withdraw = %+v, %v", w, err)
	}
	if _, err := f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-05", ""); err != nil {
		t.Errorf("May after April was withdrawn: %v", err)
	}
	again, err := f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-04"))
	if err != nil || again.State != claims.ClaimDraft || again.Lines[0].GrossSalary != 0 {
		t.Errorf("April drafted again = %+v, %v", again, err)
	}
	_, err = f.store.WithdrawClaim(f.ctx, "U12345", "2025-06", "", "")
	wantKind(t, err, claims.KindNotFound)
}

func TestNothingToSubmitAndNoEntitlementAreRefused(t *testing.T) {
	f := newClaimsFixture(t, "2025-07-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-04")))
	_, err := f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-04", "")
	wantReason(t, err, claims.KindFailedPrecondition, "NOTHING_CLAIMED")

	must(t)(f.store.CreatePCN(f.ctx, claims.Request{}, pcn("U54321", "B81001")))
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, claims.Post{PCNCode: "U54321", ID: "cc-2", RoleID: "care-coordinator",
		StaffName: "Sam Reed", WTE: dec(t, "1"), StartDate: day(t, "2025-04-01")}))
	must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U54321", month(t, "2025-04")))
	must(t)(f.store.UpdateClaimLine(f.ctx, "U54321", "2025-04", "cc-2", "", func(l *claims.ClaimLine) { l.GrossSalary = 1000 }))
	_, err = f.store.SubmitClaim(f.ctx, claims.Request{}, "U54321", "2025-04", "")
	wantReason(t, err, claims.KindFailedPrecondition, "NO_ENTITLEMENT")
}

func TestSubmitUsesARateEnteredAfterTheClaimWasDrafted(t *testing.T) {
	f := newClaimsFixture(t, "2025-07-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-04")))
	if l := f.pay(t, "2025-04", "cc-1", 400000); l.ReimbursablePence != 300000 {
		t.Fatalf("before the uplift: %d, want the 300000p cap", l.ReimbursablePence)
	}
	// A pay award published later, effective 16 April: 15 days at £36,500
	// and 15 at £43,800 → (3650000 × 15 + 4380000 × 15) ÷ 365 = 330000p.
	must(t)(f.store.CreateRate(f.ctx, claims.Request{}, claims.Rate{RoleID: "care-coordinator", EffectiveDate: day(t, "2025-04-16"), NationalPence: 4380000}))
	c, err := f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-04", "")
	if err != nil {
		t.Fatal(err)
	}
	l := c.Lines[0]
	if l.CapPence != 330000 || l.ReimbursablePence != 330000 || len(l.Segments) != 2 {
		t.Errorf("after the backdated uplift: cap %d, reimbursable %d, %d segments; want 330000, 330000, 2", l.CapPence, l.ReimbursablePence, len(l.Segments))
	}
	// The submission moved the line, so its audit event records it: at the
	// cap it was drafted with before, at the new one after.
	events, _, err := f.store.ListAuditEvents(f.ctx, c.Name(), claims.Page{Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	submission := events[len(events)-1]
	var before, after struct {
		Lines []struct {
			PostID   string
			CapPence int64
		}
	}
	if err := json.Unmarshal(submission.Before, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(submission.After, &after); err != nil {
		t.Fatal(err)
	}
	if submission.Action != "submit" || len(before.Lines) != 1 || before.Lines[0].CapPence != 300000 ||
		len(after.Lines) != 1 || after.Lines[0].CapPence != 330000 {
		t.Errorf("submission audited as %s, lines %+v → %+v; want cc-1 at 300000p → 330000p", submission.Action, before.Lines, after.Lines)
	}
}

func TestHeadcountCapsAreEnforcedPerPCN(t *testing.T) {
	f := newClaimsFixture(t, "2025-07-10", "100000")
	must(t)(f.store.UpdateRole(f.ctx, "care-coordinator", "", func(r *claims.Role) {
		r.HeadcountCaps = []claims.HeadcountCap{{FinancialYear: 2025, MaxPosts: 1, LargeListThreshold: 100000, MaxPostsLargeList: 2}}
	}))
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-2", "Sam Reed", "2025-05-01")))
	for _, m := range []string{"2025-04", "2025-05"} {
		must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, m)))
		f.pay(t, m, "cc-1", 1000)
	}
	f.pay(t, "2025-05", "cc-2", 1000)
	must(t)(f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-04", ""))
	_, err := f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-05", "")
	wantReason(t, err, claims.KindFailedPrecondition, "HEADCOUNT_CAP")
	// A list of 100,000 or more lifts the cap to 2.
	must(t)(f.store.UpdatePCN(f.ctx, "U12345", "", func(p *claims.PCN) { p.ListSize = 100000 }))
	if _, err := f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-05", ""); err != nil {
		t.Errorf("with a large list: %v", err)
	}
}

func TestAPostIsClaimedAtMostOnceAMonthEvenBehindTheStoresBack(t *testing.T) {
	f := newClaimsFixture(t, "2025-07-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-04")))
	// A second claim row for April is refused by the database itself...
	_, err := f.store.DB().ExecContext(f.ctx, `INSERT INTO claims (pcn_code, id, month, financial_year, state)
		VALUES ('U12345', '2025-04', '2025-04-01', '2025-26', 'draft')`)
	if err == nil {
		t.Error("a second April claim was stored")
	}
	// ...and so is a second line for the post in April, by its unique index.
	_, err = f.store.DB().ExecContext(f.ctx, `INSERT INTO claims (pcn_code, id, kind, month, financial_year, state)
		VALUES ('U12345', '2025-04-s', 'supplementary', '2025-04-01', '2025-26', 'draft');
		UPDATE claims SET kind = 'monthly' WHERE id = '2025-04-s'`)
	if err == nil {
		t.Error("a second monthly claim for April was stored")
	}
	_, err = f.store.DB().ExecContext(f.ctx, `INSERT INTO claim_lines (pcn_code, claim_id, post_id, month, kind, role_id, wte,
		cap_pence, active_days, days_in_year, cap_segments, reimbursable_pence)
		SELECT pcn_code, claim_id, post_id, month, kind, role_id, wte, cap_pence, active_days, days_in_year, cap_segments, reimbursable_pence
		FROM claim_lines WHERE post_id = 'cc-1'`)
	if err == nil {
		t.Error("the post was given a second April line")
	}
	// The database also holds the reimbursement rule: reimbursable = min(actual, cap).
	_, err = f.store.DB().ExecContext(f.ctx, `UPDATE claim_lines SET gross_salary_pence = 1000, reimbursable_pence = 2000`)
	if err == nil {
		t.Error("a line reimbursing more than was paid was stored")
	}
}

func TestTwoHundredRacingSubmissionsNeverOverspend(t *testing.T) {
	// Twelve monthly claims each ask for 250000p (every month's cap is at
	// least 28 days × £100 = 280000p, so each pays what was paid). The
	// entitlement is £26.631 × 488.15 = £12,999.91… → 1299992p: room for
	// exactly 5 claims (1250000p), not 6 (1500000p).
	f := newClaimsFixture(t, "2026-04-10", "488.15")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	months := []string{"2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"}
	for _, m := range months {
		must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, m)))
		if l := f.pay(t, m, "cc-1", 250000); l.ReimbursablePence != 250000 {
			t.Fatalf("%s asks for %d", m, l.ReimbursablePence)
		}
	}
	const racers, fits = 200, 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	succeeded := map[string]int{}
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := months[i%len(months)]
			_, err := f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", m, "")
			mu.Lock()
			defer mu.Unlock()
			var ce *claims.Error
			switch {
			case err == nil:
				succeeded[m]++
			case errors.As(err, &ce) && ce.Kind == claims.KindFailedPrecondition &&
				(ce.Reason == "ENTITLEMENT_EXCEEDED" || ce.Reason == "CLAIM_STATE"):
			default:
				t.Errorf("submit %s: %v", m, err)
			}
		}()
	}
	wg.Wait()
	for m, n := range succeeded {
		if n != 1 {
			t.Errorf("%s was submitted %d times", m, n)
		}
	}
	b, err := f.store.GetBudget(f.ctx, "U12345", 2025)
	if err != nil {
		t.Fatal(err)
	}
	if len(succeeded) != fits || b.SubmittedPence != fits*250000 || b.EntitlementPence != 1299992 {
		t.Errorf("%d claims submitted for %d against %d; want exactly %d", len(succeeded), b.SubmittedPence, b.EntitlementPence, fits)
	}
}

func TestCreateClaimRetriedWithOneRequestIDMakesOneClaim(t *testing.T) {
	f := newClaimsFixture(t, "2025-07-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	req := claims.Request{ID: uuid.NewString(), Method: "CreateClaim", Fingerprint: []byte("2025-04")}
	var wg sync.WaitGroup
	etags := make(chan string, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := f.store.CreateClaim(f.ctx, req, "U12345", month(t, "2025-04"))
			if err != nil {
				t.Error(err)
				return
			}
			etags <- c.Name() + "@" + claims.Etag(c.Revision)
		}()
	}
	wg.Wait()
	close(etags)
	distinct := map[string]bool{}
	for e := range etags {
		distinct[e] = true
	}
	if len(distinct) != 1 || countRows(t, f.fixture, "claims") != 1 || countRows(t, f.fixture, "claim_lines") != 1 {
		t.Errorf("%d distinct results, %d claims, %d lines; want 1, 1, 1", len(distinct), countRows(t, f.fixture, "claims"), countRows(t, f.fixture, "claim_lines"))
	}
}

func TestBudgetForecastsEveryPostToMarch(t *testing.T) {
	f := newClaimsFixture(t, "2025-07-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, claims.Post{PCNCode: "U12345", ID: "cc-plan", RoleID: "care-coordinator",
		WTE: dec(t, "0.5"), StartDate: day(t, "2026-01-01")}))
	for _, m := range []string{"2025-04", "2025-05", "2025-06"} {
		must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, m)))
		f.pay(t, m, "cc-1", 250000)
	}
	must(t)(f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-04", ""))
	b, err := f.store.GetBudget(f.ctx, "U12345", 2025)
	if err != nil {
		t.Fatal(err)
	}
	// Forecast from July (after the latest claim, June) to March at £100 a
	// day: cc-1 for 274 days (1 July – 31 March) = 2740000p; the planned
	// half-time post from 1 January, 90 days × £50 = 450000p.
	if b.ForecastFrom.String() != "2025-07" || b.ForecastPence != 3190000 {
		t.Errorf("forecast from %s = %d, want 2025-07 and 3190000", b.ForecastFrom, b.ForecastPence)
	}
	// Entitlement £26.631 × 100,000 = £2,663,100; less £2,500 submitted = 266060000p.
	if b.SubmittedPence != 250000 || b.DraftPence != 500000 || b.RemainingPence() != 266060000 || b.UnderspendPence() != 266060000-3190000 {
		t.Errorf("budget = %+v", b)
	}
	if len(b.Roles) != 1 || b.Roles[0].RoleID != "care-coordinator" || b.Roles[0].SubmittedPence != 250000 || b.Roles[0].ForecastPence != 3190000 {
		t.Errorf("by role = %+v", b.Roles)
	}
}

func TestClaimWritersAreThePCNsOwnStaff(t *testing.T) {
	f := newClaimsFixture(t, "2025-07-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	manager := claims.WithActor(context.Background(), claims.Actor{Subject: "m", Role: claims.RolePCNManager, OrgKind: claims.OrgPCN, OrgCode: "U12345"})
	if _, err := f.store.CreateClaim(manager, claims.Request{}, "U12345", month(t, "2025-04")); err != nil {
		t.Fatalf("a PCN manager drafts claims: %v", err)
	}
	must(t)(f.store.UpdateClaimLine(manager, "U12345", "2025-04", "cc-1", "", func(l *claims.ClaimLine) { l.GrossSalary = 1000 }))
	_, err := f.store.SubmitClaim(manager, claims.Request{}, "U12345", "2025-04", "")
	wantKind(t, err, claims.KindPermissionDenied)
	other := claims.WithActor(context.Background(), claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U54321"})
	_, err = f.store.SubmitClaim(other, claims.Request{}, "U12345", "2025-04", "")
	wantKind(t, err, claims.KindNotFound)
	_, err = f.store.GetBudget(other, "U12345", 2025)
	wantKind(t, err, claims.KindNotFound)
}
