package claims_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"arrs.nhs.uk/arrs/claims"
)

func reviewer(subject, role claims.AccessRole, org string) context.Context {
	return claims.WithActor(context.Background(), claims.Actor{Subject: string(subject), Role: role, OrgKind: claims.OrgCommissioner, OrgCode: org})
}

var (
	approverA = reviewer("approver-a", claims.RoleCommissionerApprover, "QNQ")
	approverB = reviewer("approver-b", claims.RoleCommissionerApprover, "QNQ")
	finance   = reviewer("finance-f", claims.RoleCommissionerFinance, "QNQ")
)

// submitted sets up April and May 2025 claims for one care co-ordinator
// (actual 330000p a month: April's cap is 300000p, May's 310000p) and
// submits both as the clinical director "cd".
func submitted(t *testing.T) claimsFixture {
	t.Helper()
	f := newClaimsFixture(t, "2025-07-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	cd := claims.WithActor(context.Background(), claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U12345"})
	for _, m := range []string{"2025-04", "2025-05"} {
		must(t)(f.store.CreateClaim(cd, claims.Request{}, "U12345", month(t, m)))
		must(t)(f.store.UpdateClaimLine(cd, "U12345", m, "cc-1", "", func(l *claims.ClaimLine) { l.GrossSalary = 330000 }))
		must(t)(f.store.SubmitClaim(cd, claims.Request{}, "U12345", m, ""))
	}
	return f
}

func TestReviewTransitions(t *testing.T) {
	f := submitted(t)
	// Approve April with its line lowered: 300000p claimed, 280000p approved.
	c, err := f.store.ApproveClaim(approverA, claims.Request{}, "U12345", "2025-04", "",
		[]claims.LineAdjustment{{PostID: "cc-1", ApprovedPence: 280000, Reason: "two days unpaid leave"}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, approved := c.Totals()
	if c.State != claims.ClaimApproved || c.Reviewer != "approver-a" || approved != 280000 || c.Lines[0].AdjustmentReason == "" {
		t.Fatalf("approved = %s by %s for %d", c.State, c.Reviewer, approved)
	}
	b, _ := f.store.GetBudget(f.ctx, "U12345", 2025)
	if b.ApprovedPence != 280000 || b.SubmittedPence != 310000 {
		t.Errorf("budget counts %d approved and %d submitted; want 280000 and 310000", b.ApprovedPence, b.SubmittedPence)
	}
	forbidden := []struct {
		name string
		do   func() error
	}{
		{"approve twice", func() error {
			_, err := f.store.ApproveClaim(approverB, claims.Request{}, "U12345", "2025-04", "", nil)
			return err
		}},
		{"reject an approved claim", func() error { _, err := f.store.RejectClaim(approverB, "U12345", "2025-04", "", "late"); return err }},
		{"query an approved claim", func() error { _, err := f.store.QueryClaim(approverB, "U12345", "2025-04", "", "why?"); return err }},
		{"withdraw an approved claim", func() error { _, err := f.store.WithdrawClaim(f.ctx, "U12345", "2025-04", "", "oops"); return err }},
		{"pay a submitted claim", func() error {
			_, err := f.store.RecordClaimPayment(finance, claims.Request{}, "U12345", "2025-05", "", claims.Payment{Date: day(t, "2025-07-10"), Reference: "R1"})
			return err
		}},
	}
	for _, tt := range forbidden {
		wantReason(t, tt.do(), claims.KindFailedPrecondition, "CLAIM_STATE")
	}
	paid, err := f.store.RecordClaimPayment(finance, claims.Request{}, "U12345", "2025-04", "", claims.Payment{Date: day(t, "2025-07-10"), Reference: "REM-0710"})
	if err != nil || paid.State != claims.ClaimPaid || paid.PaymentPayee != "Practice A81001 (A81001)" || paid.PaymentRecordedBy != "finance-f" {
		t.Fatalf("paid = %+v, %v", paid, err)
	}
	_, err = f.store.RecordClaimPayment(finance, claims.Request{}, "U12345", "2025-04", "", claims.Payment{Date: day(t, "2025-07-10"), Reference: "AGAIN"})
	wantReason(t, err, claims.KindFailedPrecondition, "CLAIM_STATE")

	// Query May; the PCN answers, edits and submits again.
	q, err := f.store.QueryClaim(approverA, "U12345", "2025-05", "", "Is there a payslip?")
	if err != nil || q.State != claims.ClaimQueried || q.ReviewNote != "Is there a payslip?" {
		t.Fatalf("query = %+v, %v", q, err)
	}
	cd := claims.WithActor(context.Background(), claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U12345"})
	must(t)(f.store.UpdateClaimLine(cd, "U12345", "2025-05", "cc-1", "", func(l *claims.ClaimLine) {
		l.EvidenceURIs = []string{"https://payroll.example/2025-05/cc-1.pdf"}
	}))
	must(t)(f.store.ReplyToClaimQuery(cd, "U12345", "2025-05", "", "The payslip is now on the line.", nil))
	re, err := f.store.SubmitClaim(cd, claims.Request{}, "U12345", "2025-05", "")
	if err != nil || re.State != claims.ClaimSubmitted || re.ReviewNote != "" {
		t.Fatalf("resubmitted = %+v, %v", re, err)
	}
	rej, err := f.store.RejectClaim(approverA, "U12345", "2025-05", "", "Post not in the workforce plan")
	if err != nil || rej.State != claims.ClaimRejected {
		t.Fatalf("reject = %+v, %v", rej, err)
	}
	b, _ = f.store.GetBudget(f.ctx, "U12345", 2025)
	if b.PaidPence != 280000 || b.SubmittedPence != 0 || b.RemainingPence() != b.EntitlementPence-280000 {
		t.Errorf("after payment and rejection: %+v", b)
	}
	events, _, _ := f.store.ListAuditEvents(f.ctx, "pcns/U12345/claims/2025-05", claims.Page{Size: 50})
	var story []string
	for _, e := range events {
		story = append(story, e.Action+" by "+e.Subject)
	}
	if fmt.Sprint(story) != "[create by cd update by cd submit by cd query by approver-a ask by approver-a update by cd reply by cd submit by cd reject by approver-a]" {
		t.Errorf("May's history reads %v", story)
	}
}

func TestReviewRules(t *testing.T) {
	f := submitted(t)
	cdApprover := claims.WithActor(context.Background(), claims.Actor{Subject: "cd", Role: claims.RoleCommissionerApprover, OrgKind: claims.OrgCommissioner, OrgCode: "QNQ"})
	_, err := f.store.ApproveClaim(cdApprover, claims.Request{}, "U12345", "2025-04", "", nil)
	wantReason(t, err, claims.KindPermissionDenied, "FOUR_EYES")

	for _, tt := range []struct {
		adj         claims.LineAdjustment
		field, rule string
	}{
		{claims.LineAdjustment{PostID: "cc-1", ApprovedPence: 300001, Reason: "x"}, "adjustments[0].approved_pence", "ADJUSTMENT_RANGE"},
		{claims.LineAdjustment{PostID: "cc-1", ApprovedPence: -1, Reason: "x"}, "adjustments[0].approved_pence", "ADJUSTMENT_RANGE"},
		{claims.LineAdjustment{PostID: "cc-1", ApprovedPence: 1}, "adjustments[0].reason", "REQUIRED"},
		{claims.LineAdjustment{PostID: "nobody", ApprovedPence: 1, Reason: "x"}, "adjustments[0].line", "UNKNOWN_LINE"},
	} {
		_, err := f.store.ApproveClaim(approverA, claims.Request{}, "U12345", "2025-04", "", []claims.LineAdjustment{tt.adj})
		wantViolation(t, err, tt.field, tt.rule)
	}
	_, err = f.store.RejectClaim(approverA, "U12345", "2025-04", "", " ")
	wantViolation(t, err, "reason", "REQUIRED")
	other := reviewer("approver-w", claims.RoleCommissionerApprover, "QWO")
	_, err = f.store.ApproveClaim(other, claims.Request{}, "U12345", "2025-04", "", nil)
	wantKind(t, err, claims.KindNotFound)
	_, err = f.store.ApproveClaim(finance, claims.Request{}, "U12345", "2025-04", "", nil)
	wantKind(t, err, claims.KindPermissionDenied)
	_, err = f.store.ApproveClaim(approverA, claims.Request{}, "U12345", "2025-04", "stale", nil)
	wantKind(t, err, claims.KindConflict)

	c, _ := f.store.GetClaim(f.ctx, "U12345", "2025-04")
	if c.State != claims.ClaimSubmitted || c.Lines[0].ApprovedPence != nil {
		t.Errorf("refused reviews changed the claim: %s", c.State)
	}
}

func TestTwoApproversAtOnceHaveOneWinner(t *testing.T) {
	f := submitted(t)
	c, _ := f.store.GetClaim(f.ctx, "U12345", "2025-04")
	etag := claims.Etag(c.Revision)
	var wg sync.WaitGroup
	results := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := approverA
			if i%2 == 1 {
				who = approverB
			}
			tag := ""
			if i%3 == 0 {
				tag = etag
			}
			_, err := f.store.ApproveClaim(who, claims.Request{}, "U12345", "2025-04", tag, nil)
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	wins := 0
	for err := range results {
		switch {
		case err == nil:
			wins++
		case claims.IsKind(err, claims.KindConflict), claims.IsKind(err, claims.KindFailedPrecondition):
		default:
			t.Errorf("approval: %v", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d approvals succeeded, want exactly 1", wins)
	}
}

func TestPaymentRetriedWithOneRequestIDIsRecordedOnce(t *testing.T) {
	f := submitted(t)
	must(t)(f.store.ApproveClaim(approverA, claims.Request{}, "U12345", "2025-04", "", nil))
	req := claims.Request{ID: uuid.NewString(), Method: "RecordClaimPayment", Fingerprint: []byte("REM-1")}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := f.store.RecordClaimPayment(finance, req, "U12345", "2025-04", "", claims.Payment{Date: day(t, "2025-07-10"), Reference: "REM-1"})
			if err != nil || c.State != claims.ClaimPaid {
				t.Errorf("retry: %v", err)
			}
		}()
	}
	wg.Wait()
	events, _, _ := f.store.ListAuditEvents(f.ctx, "pcns/U12345/claims/2025-04", claims.Page{Size: 50})
	if last := events[len(events)-1]; last.Action != "pay" || events[len(events)-2].Action != "approve" {
		t.Errorf("history ends %s, %s; want one payment", events[len(events)-2].Action, last.Action)
	}
	_, err := f.store.RecordClaimPayment(finance, claims.Request{}, "U12345", "2025-05", "", claims.Payment{Date: day(t, "2025-07-10"), Reference: "R"})
	wantReason(t, err, claims.KindFailedPrecondition, "CLAIM_STATE")
	must(t)(f.store.ApproveClaim(approverA, claims.Request{}, "U12345", "2025-05", "", nil))
	_, err = f.store.RecordClaimPayment(finance, claims.Request{}, "U12345", "2025-05", "", claims.Payment{Date: day(t, "2025-07-11"), Reference: "R"})
	wantViolation(t, err, "payment.payment_date", "NOT_FUTURE")
}

// A claim's events record the claim, and its lines only where the change
// touched them: the draft's creation and its line's costs carry the line, the
// submission and payment only the claim, the approval every line it set an
// approved amount on.
func TestClaimEventsRecordTheLinesTheyChanged(t *testing.T) {
	f := submitted(t)
	must(t)(f.store.ApproveClaim(approverA, claims.Request{}, "U12345", "2025-04", "",
		[]claims.LineAdjustment{{PostID: "cc-1", ApprovedPence: 280000, Reason: "two days unpaid leave"}}))
	must(t)(f.store.RecordClaimPayment(finance, claims.Request{}, "U12345", "2025-04", "", claims.Payment{Date: day(t, "2025-07-10"), Reference: "REM-1"}))
	events, _, err := f.store.ListAuditEvents(f.ctx, "pcns/U12345/claims/2025-04", claims.Page{Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	type doc struct {
		State string
		Lines []struct {
			PostID        string
			ApprovedPence *int64
		}
	}
	var got []string
	for _, e := range events {
		var before, after doc
		if e.Before != nil {
			must(t)(0, json.Unmarshal(e.Before, &before))
		}
		must(t)(0, json.Unmarshal(e.After, &after))
		desc := fmt.Sprintf("%s %s: %s→%s, lines %d→%d", e.Action, e.Resource, before.State, after.State, len(before.Lines), len(after.Lines))
		if e.Action == "approve" && len(after.Lines) == 1 {
			desc += fmt.Sprintf(", approved %d", *after.Lines[0].ApprovedPence)
		}
		got = append(got, desc)
	}
	want := []string{
		"create pcns/U12345/claims/2025-04: →draft, lines 0→1",
		"update pcns/U12345/claims/2025-04/lines/cc-1: →, lines 0→0",
		"submit pcns/U12345/claims/2025-04: draft→submitted, lines 0→0",
		"approve pcns/U12345/claims/2025-04: submitted→approved, lines 1→1, approved 280000",
		"pay pcns/U12345/claims/2025-04: approved→paid, lines 0→0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("the claim's events record\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestReviewQueueIsOldestFirstWithFlags(t *testing.T) {
	f := submitted(t)
	later := claims.NewStore(f.store.DB(), claims.WithClock(func() time.Time { return time.Now().Add(72 * time.Hour) }))
	items, next, err := later.ReviewQueue(approverA, "QNQ", claims.Page{Size: 1})
	if err != nil || len(items) != 1 || next == "" || items[0].Claim.ID != "2025-04" || items[0].DaysWaiting < 2 {
		t.Fatalf("first page = %+v %q %v", items, next, err)
	}
	flags := fmt.Sprint(items[0].Flags)
	// April: 330000p paid against a 300000p cap; cc-1 started on 1 April.
	if flags != "[{cc-1 COST_OVER_CAP costs £3,300.00 against a cap of £3,000.00} {cc-1 NEW_STARTER started on 2025-04-01}]" {
		t.Errorf("April's flags = %s", flags)
	}
	items, next, err = later.ReviewQueue(approverA, "QNQ", claims.Page{Size: 1, After: next})
	if err != nil || len(items) != 1 || items[0].Claim.ID != "2025-05" || next != "" {
		t.Fatalf("second page = %+v %q %v", items, next, err)
	}
	// May: 310000p against April's 300000p is 3.3% more: no flag for that.
	if fmt.Sprint(items[0].Flags) != "[{cc-1 COST_OVER_CAP costs £3,300.00 against a cap of £3,100.00}]" {
		t.Errorf("May's flags = %v", items[0].Flags)
	}
	items, _, err = f.store.ReviewQueue(reviewer("w", claims.RoleCommissionerApprover, "QWO"), "QNQ", claims.Page{Size: 10})
	if err != nil || len(items) != 0 {
		t.Errorf("another commissioner sees %d of QNQ's queue, %v", len(items), err)
	}
}

func TestClaimsStayWithTheCommissionerOfTheirMonth(t *testing.T) {
	f := newClaimsFixture(t, "2025-07-10", "100000")
	must(t)(f.store.CreateCommissioner(f.ctx, claims.Request{}, claims.Commissioner{Code: "QWO", Kind: claims.KindICB, DisplayName: "West", ValidFrom: claims.ICBStart}))
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	// The PCN moves to QWO on 10 July 2025; April stays QNQ's to review.
	must(t)(f.store.UpdatePCN(f.ctx, "U12345", "", func(p *claims.PCN) { p.CommissionerCode = "QWO" }))
	april, err := f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-04"))
	if err != nil || april.CommissionerCode != "QNQ" {
		t.Fatalf("April's commissioner = %q, %v; want QNQ", april.CommissionerCode, err)
	}
	if _, err := f.store.GetClaim(approverA, "U12345", "2025-04"); err != nil {
		t.Errorf("QNQ reads the April claim of a PCN it no longer commissions: %v", err)
	}
	_, err = f.store.GetClaim(reviewer("w", claims.RoleCommissionerApprover, "QWO"), "U12345", "2025-04")
	wantKind(t, err, claims.KindNotFound)
	later := claims.NewStore(f.store.DB(), claims.WithClock(func() time.Time { return time.Date(2025, 8, 5, 12, 0, 0, 0, time.UTC) }))
	july, err := later.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-07"))
	// On 1 July QNQ still commissioned; the move took effect on 10 July.
	if err != nil || july.CommissionerCode != "QNQ" {
		t.Errorf("July's commissioner = %q, %v", july.CommissionerCode, err)
	}
}

func TestAQueriedClaimCountsOnceAndCannotGrowPastTheEntitlement(t *testing.T) {
	// £26.631 × 30 = £798.93 = 79893p: room for one 50000p claim, not more.
	f := newClaimsFixture(t, "2025-07-10", "30")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	cd := claims.WithActor(context.Background(), claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U12345"})
	must(t)(f.store.CreateClaim(cd, claims.Request{}, "U12345", month(t, "2025-04")))
	must(t)(f.store.UpdateClaimLine(cd, "U12345", "2025-04", "cc-1", "", func(l *claims.ClaimLine) { l.GrossSalary = 50000 }))
	must(t)(f.store.SubmitClaim(cd, claims.Request{}, "U12345", "2025-04", ""))
	must(t)(f.store.QueryClaim(approverA, "U12345", "2025-04", "", "Payslip?"))
	// 90000p would take the year past 79893p.
	_, err := f.store.UpdateClaimLine(cd, "U12345", "2025-04", "cc-1", "", func(l *claims.ClaimLine) { l.GrossSalary = 90000 })
	wantReason(t, err, claims.KindFailedPrecondition, "ENTITLEMENT_EXCEEDED")
	// Answered without raising it, the claim is resubmitted: it counts once,
	// not twice (50000p + 50000p would not fit).
	must(t)(f.store.ReplyToClaimQuery(cd, "U12345", "2025-04", "", "The payslip is on the line.", nil))
	if _, err := f.store.SubmitClaim(cd, claims.Request{}, "U12345", "2025-04", ""); err != nil {
		t.Errorf("resubmitting the queried claim: %v", err)
	}
}

func TestRacingCreatesWithoutARequestIDMakeOneClaim(t *testing.T) {
	f := newClaimsFixture(t, "2025-07-10", "100")
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// No posts: nothing but the claim row itself can collide.
			_, err := f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-04"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case !claims.IsKind(err, claims.KindAlreadyExists):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	c, _ := f.store.GetClaim(f.ctx, "U12345", "2025-04")
	if created != 1 || c.Revision != 1 {
		t.Errorf("%d creates succeeded, revision %d; want 1 and 1", created, c.Revision)
	}
}

func TestFixesFromReview(t *testing.T) {
	f := newClaimsFixture(t, "2025-07-10", "100000")
	half := careCoordinator(t, "cc-half", "Sam Reed", "2025-04-01")
	half.WTE = dec(t, "0.5")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, half))
	must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-04")))

	t.Run("a WTE above the post's needs overtime recorded", func(t *testing.T) {
		_, err := f.store.UpdateClaimLine(f.ctx, "U12345", "2025-04", "cc-half", "", func(l *claims.ClaimLine) {
			l.GrossSalary, l.WTE = 300000, dec(t, "1")
		})
		wantViolation(t, err, "claim_line.wte", "WTE_ABOVE_POST")
	})

	t.Run("a post that no longer qualifies stops the submission, not as a database error", func(t *testing.T) {
		f.pay(t, "2025-04", "cc-half", 100000)
		must(t)(f.store.UpdatePost(f.ctx, "U12345", "cc-half", "", func(p *claims.Post) { p.Baseline = true }))
		_, err := f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-04", "")
		wantReason(t, err, claims.KindFailedPrecondition, "LINE_NOT_ELIGIBLE")
		must(t)(f.store.UpdatePost(f.ctx, "U12345", "cc-half", "", func(p *claims.Post) { p.Baseline = false }))
	})

	t.Run("a replaced leaver is not two posts against a headcount cap", func(t *testing.T) {
		must(t)(f.store.UpdateRole(f.ctx, "care-coordinator", "", func(r *claims.Role) {
			r.HeadcountCaps = []claims.HeadcountCap{{FinancialYear: 2025, MaxPosts: 1}}
		}))
		must(t)(f.store.EndPost(f.ctx, "U12345", "cc-half", "", day(t, "2025-04-30")))
		must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-new", "Ana Diaz", "2025-05-01")))
		must(t)(f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-04", ""))
		must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-05")))
		f.pay(t, "2025-05", "cc-new", 100000)
		if _, err := f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-05", ""); err != nil {
			t.Errorf("May with the replacement only: %v", err)
		}
	})

	t.Run("a dropped plan is not forecast", func(t *testing.T) {
		must(t)(f.store.CreatePost(f.ctx, claims.Request{}, claims.Post{PCNCode: "U12345", ID: "cc-plan", RoleID: "care-coordinator",
			WTE: dec(t, "1"), StartDate: day(t, "2025-10-01")}))
		before, _ := f.store.GetBudget(f.ctx, "U12345", 2025)
		must(t)(f.store.EndPost(f.ctx, "U12345", "cc-plan", "", claims.Date{}))
		after, _ := f.store.GetBudget(f.ctx, "U12345", 2025)
		// October to March at £100 a day: 182 days = 1820000p less.
		if before.ForecastPence-after.ForecastPence != 1820000 {
			t.Errorf("forecast %d → %d after the plan was dropped", before.ForecastPence, after.ForecastPence)
		}
	})

	t.Run("a same-day correction keeps the real past commissioner", func(t *testing.T) {
		for _, code := range []string{"QXX", "QWO"} {
			must(t)(f.store.CreateCommissioner(f.ctx, claims.Request{}, claims.Commissioner{Code: code, Kind: claims.KindICB, DisplayName: code, ValidFrom: claims.ICBStart}))
		}
		must(t)(f.store.UpdatePCN(f.ctx, "U12345", "", func(p *claims.PCN) { p.CommissionerCode = "QXX" }))
		must(t)(f.store.UpdatePCN(f.ctx, "U12345", "", func(p *claims.PCN) { p.CommissionerCode = "QWO" }))
		must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-06")))
		c, _ := f.store.GetClaim(f.ctx, "U12345", "2025-06")
		if c.CommissionerCode != "QNQ" {
			t.Errorf("June's commissioner = %s, want QNQ", c.CommissionerCode)
		}
	})
}

func TestAClaimsHistoryFollowsTheCommissionerOfItsMonth(t *testing.T) {
	f := submitted(t)
	must(t)(f.store.CreateCommissioner(f.ctx, claims.Request{}, claims.Commissioner{Code: "QWO", Kind: claims.KindICB, DisplayName: "West", ValidFrom: claims.ICBStart}))
	must(t)(f.store.UpdatePCN(f.ctx, "U12345", "", func(p *claims.PCN) { p.CommissionerCode = "QWO" }))
	west := reviewer("w", claims.RoleCommissionerApprover, "QWO")
	for _, tt := range []struct {
		who  context.Context
		want int
	}{
		{approverA, 3}, // QNQ reviews April: it sees create, line update, submit
		{west, 0},      // QWO commissions the PCN now, but not April
	} {
		events, _, err := f.store.ListAuditEvents(tt.who, "pcns/U12345/claims/2025-04", claims.Page{Size: 50})
		if err != nil || len(events) != tt.want {
			t.Errorf("April's history: %d events, %v; want %d", len(events), err, tt.want)
		}
	}
	posts, _, _ := f.store.ListAuditEvents(west, "pcns/U12345/posts/cc-1", claims.Page{Size: 50})
	if len(posts) == 0 {
		t.Error("QWO cannot read the history of a post of a PCN it now commissions")
	}
}

func TestAnEntitlementCannotFallBelowWhatIsClaimed(t *testing.T) {
	f := submitted(t) // 300000p + 310000p claimed against £26.631 × 100,000
	// 20 weighted patients × £26.631 = 53262p: below the 610000p claimed.
	_, err := f.store.UpdateEntitlement(f.ctx, "U12345", 2025, "", func(e *claims.Entitlement) { e.WeightedPopulation = dec(t, "20") })
	wantReason(t, err, claims.KindFailedPrecondition, "ENTITLEMENT_BELOW_CLAIMED")
	_, err = f.store.UpdateFundingYear(f.ctx, 2025, "", func(y *claims.FundingYear) { y.RatePerWeightedPatient = dec(t, "0.001") })
	wantReason(t, err, claims.KindFailedPrecondition, "ENTITLEMENT_BELOW_CLAIMED")
	// 230 weighted patients at £26.631 = £6,125.13 = 612513p still covers it.
	if _, err := f.store.UpdateEntitlement(f.ctx, "U12345", 2025, "", func(e *claims.Entitlement) { e.WeightedPopulation = dec(t, "230") }); err != nil {
		t.Errorf("an entitlement above what is claimed: %v", err)
	}
}
