package claims_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"arrs.nhs.uk/arrs/claims"
)

// TestABudgetIsReadAtOneMoment reads the budget over and over while claims
// for nine months are submitted, approved and paid at once. Every read must
// add up: remaining is the entitlement less what is submitted, approved and
// paid; each figure is the sum of its roles' shares; and since moving a
// claim along only moves its money from one figure to the next, draft +
// submitted + approved + paid is always the total of all the claims.
func TestABudgetIsReadAtOneMoment(t *testing.T) {
	f := newClaimsFixture(t, "2026-01-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, ot(t, "ot-1", "Nia Evans", "OT123456", "0.6", "2025-04-01")))
	cd := claims.WithActor(context.Background(), claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U12345"})
	var months []string
	var total int64
	for m := 4; m <= 12; m++ {
		id := fmt.Sprintf("2025-%02d", m)
		months = append(months, id)
		must(t)(f.store.CreateClaim(cd, claims.Request{}, "U12345", month(t, id)))
		total += f.pay(t, id, "cc-1", 250000).ReimbursablePence
		total += f.pay(t, id, "ot-1", 320000).ReimbursablePence
	}

	var done atomic.Bool
	var reads atomic.Int64
	readerErr := make(chan error, 1)
	go func() {
		defer close(readerErr)
		for !done.Load() {
			b, err := f.store.GetBudget(f.ctx, "U12345", 2025)
			if err != nil {
				readerErr <- err
				return
			}
			reads.Add(1)
			if msg := budgetAddsUp(b, total); msg != "" {
				readerErr <- fmt.Errorf("read %d: %s: %+v", reads.Load(), msg, b)
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for _, m := range months {
		wg.Go(func() {
			if _, err := f.store.SubmitClaim(cd, claims.Request{}, "U12345", m, ""); err != nil {
				t.Errorf("submit %s: %v", m, err)
				return
			}
			if _, err := f.store.ApproveClaim(approverA, claims.Request{}, "U12345", m, "", nil); err != nil {
				t.Errorf("approve %s: %v", m, err)
				return
			}
			if _, err := f.store.RecordClaimPayment(finance, claims.Request{}, "U12345", m, "",
				claims.Payment{Date: day(t, "2026-01-10"), Reference: "REM-" + m}); err != nil {
				t.Errorf("pay %s: %v", m, err)
			}
		})
	}
	wg.Wait()
	done.Store(true)
	if err := <-readerErr; err != nil {
		t.Fatal(err)
	}
	b, err := f.store.GetBudget(f.ctx, "U12345", 2025)
	if err != nil {
		t.Fatal(err)
	}
	if b.PaidPence != total || b.DraftPence+b.SubmittedPence+b.ApprovedPence != 0 {
		t.Errorf("after every month is paid: %+v, want %d paid", b, total)
	}
	if msg := budgetAddsUp(b, total); msg != "" {
		t.Error(msg)
	}
	t.Logf("%d budget reads while %d claims moved through review", reads.Load(), len(months))
}

// budgetAddsUp says what does not add up in b, or "".
func budgetAddsUp(b claims.Budget, total int64) string {
	if b.RemainingPence() != b.EntitlementPence-(b.SubmittedPence+b.ApprovedPence+b.PaidPence) || b.RemainingPence() < 0 {
		return "remaining is not the entitlement less what is counted"
	}
	if got := b.DraftPence + b.SubmittedPence + b.ApprovedPence + b.PaidPence; got != total {
		return fmt.Sprintf("draft + submitted + approved + paid = %d, want %d", got, total)
	}
	var submitted, approved, paid int64
	for _, r := range b.Roles {
		submitted, approved, paid = submitted+r.SubmittedPence, approved+r.ApprovedPence, paid+r.PaidPence
	}
	if submitted != b.SubmittedPence || approved != b.ApprovedPence || paid != b.PaidPence {
		return fmt.Sprintf("the roles' shares (%d, %d, %d) do not sum to the totals", submitted, approved, paid)
	}
	return ""
}

// TestABudgetNeedsItsYearAndEntitlement: no zeros and a negative underspend
// for a year that is not there.
func TestABudgetNeedsItsYearAndEntitlement(t *testing.T) {
	f := newClaimsFixture(t, "2026-01-10", "100000")
	must(t)(f.store.CreateFundingYear(f.ctx, claims.Request{}, claims.FundingYear{Year: 2026, RatePerWeightedPatient: dec(t, "27")}))
	for _, tt := range []struct {
		year   claims.FinancialYear
		reason string
	}{
		{2026, "NO_ENTITLEMENT"},           // the year is open, the PCN's entitlement not yet set
		{2030, "FINANCIAL_YEAR_NOT_FOUND"}, // no such year
		{2025, ""},                         // the fixture's year, with its entitlement
	} {
		b, err := f.store.GetBudget(f.ctx, "U12345", tt.year)
		if tt.reason == "" {
			if err != nil || b.EntitlementPence == 0 {
				t.Errorf("%s: %+v, %v", tt.year, b, err)
			}
			continue
		}
		wantReason(t, err, claims.KindNotFound, tt.reason)
	}
}
