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

// TestEntitlementPaceIsTwelfthsOfTheWhole: k twelfths of the entitlement,
// rounded half up from the whole each month, so March is the entitlement to
// the penny and no month carries another's rounding.
func TestEntitlementPaceIsTwelfthsOfTheWhole(t *testing.T) {
	for _, tt := range []struct {
		entitlement int64
		k           int
		want        int64
	}{
		{266310000, 1, 22192500},   // £2,663,100 ÷ 12 = £221,925.00
		{266310000, 12, 266310000}, // March: the whole
		{100, 1, 8},                // 8.33 rounds down
		{100, 2, 17},               // 16.67 rounds up
		{102, 1, 9},                // 8.5 rounds half up
		{100000001, 2, 16666667},   // 16666666.83
		{100000001, 12, 100000001}, // not 12 × 8333333
		{0, 6, 0},                  // no entitlement, no pace
		{100, 0, 0},                // before April
		{100, 13, 100},             // past March: still the whole
	} {
		if got := claims.EntitlementPace(tt.entitlement, tt.k); got != tt.want {
			t.Errorf("EntitlementPace(%d, %d) = %d, want %d", tt.entitlement, tt.k, got, tt.want)
		}
	}
}

// TestABudgetGoesMonthByMonth: one care co-ordinator at £36,500 a year
// (£100 a day), paid £2,500 a month. April is paid, May approved, June
// submitted and July a draft; the forecast runs from August at the cap.
// Each month's claimed figure counts only submitted, approved and paid
// claims; the pace is twelfths of the £2,663,100 entitlement; projected runs
// on from the claimed total through the forecast and ends at what the
// budget's totals say.
func TestABudgetGoesMonthByMonth(t *testing.T) {
	f := newClaimsFixture(t, "2025-08-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	cd := claims.WithActor(context.Background(), claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U12345"})
	for _, m := range []string{"2025-04", "2025-05", "2025-06", "2025-07"} {
		must(t)(f.store.CreateClaim(cd, claims.Request{}, "U12345", month(t, m)))
		f.pay(t, m, "cc-1", 250000)
	}
	for _, m := range []string{"2025-04", "2025-05", "2025-06"} {
		must(t)(f.store.SubmitClaim(cd, claims.Request{}, "U12345", m, ""))
	}
	for _, m := range []string{"2025-04", "2025-05"} {
		must(t)(f.store.ApproveClaim(approverA, claims.Request{}, "U12345", m, "", nil))
	}
	must(t)(f.store.RecordClaimPayment(finance, claims.Request{}, "U12345", "2025-04", "",
		claims.Payment{Date: day(t, "2025-08-10"), Reference: "REM-1"}))

	b, err := f.store.GetBudget(f.ctx, "U12345", 2025)
	if err != nil {
		t.Fatal(err)
	}
	const pace = 22192500 // £2,663,100 ÷ 12
	want := []struct {
		month                                    string
		claimed, cumulative, forecast, projected int64
	}{
		{"2025-04", 250000, 250000, 0, 250000},  // paid
		{"2025-05", 250000, 500000, 0, 500000},  // approved
		{"2025-06", 250000, 750000, 0, 750000},  // submitted
		{"2025-07", 0, 750000, 0, 750000},       // a draft counts for nothing yet
		{"2025-08", 0, 750000, 310000, 1060000}, // 31 days × £100
		{"2025-09", 0, 750000, 300000, 1360000},
		{"2025-10", 0, 750000, 310000, 1670000},
		{"2025-11", 0, 750000, 300000, 1970000},
		{"2025-12", 0, 750000, 310000, 2280000},
		{"2026-01", 0, 750000, 310000, 2590000},
		{"2026-02", 0, 750000, 280000, 2870000},
		{"2026-03", 0, 750000, 310000, 3180000},
	}
	if len(b.Months) != len(want) {
		t.Fatalf("%d months, want %d", len(b.Months), len(want))
	}
	for i, w := range want {
		got := b.Months[i]
		if got.Month.String() != w.month || got.ClaimedPence != w.claimed || got.CumulativeClaimedPence != w.cumulative ||
			got.ForecastPence != w.forecast || got.ProjectedPence != w.projected || got.PacePence != int64(i+1)*pace {
			t.Errorf("month %d: %+v, want %+v and pace %d", i+1, got, w, int64(i+1)*pace)
		}
	}
	last := b.Months[11]
	if last.CumulativeClaimedPence != b.SubmittedPence+b.ApprovedPence+b.PaidPence ||
		last.ProjectedPence != b.EntitlementPence-b.UnderspendPence() || last.PacePence != b.EntitlementPence {
		t.Errorf("March %+v does not agree with the budget %+v", last, b)
	}
}
