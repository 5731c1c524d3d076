package claims_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/claims/demo"
	"arrs.nhs.uk/arrs/internal/pgtest"
)

// demoStore is a store over the demo data loaded on 2 December 2026, the
// day the server tests stand on: Riverside's (U12345) August claim is paid,
// September's approved, October's waits; Kingsgate's (U34567) September and
// October wait.
func demoStore(t *testing.T) *claims.Store {
	t.Helper()
	t.Parallel()
	db := pgtest.NewDB(t)
	db.SetMaxOpenConns(8)
	day := time.Date(2026, time.December, 2, 10, 0, 0, 0, time.UTC)
	s := claims.NewStore(db, claims.WithClock(func() time.Time { return day }))
	if err := demo.Load(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	qnqApprover = claims.Actor{Subject: "approver", Role: claims.RoleCommissionerApprover, OrgKind: claims.OrgCommissioner, OrgCode: "QNQ"}
	otherICB    = claims.Actor{Subject: "approver", Role: claims.RoleCommissionerApprover, OrgKind: claims.OrgCommissioner, OrgCode: "QRL"}
	national    = claims.Actor{Subject: "nhse", Role: claims.RoleNationalAdministrator, OrgKind: claims.OrgNational}
	riverside   = claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U12345"}
)

// The position of each PCN is its budget, as GetBudget gives it, read with
// every other PCN's at one moment; the total adds them up; the claims
// waiting are those submitted and not yet reviewed.
func TestCommissionerPositionIsEachPCNsBudget(t *testing.T) {
	s := demoStore(t)
	ctx := claims.WithActor(context.Background(), qnqApprover)
	year := claims.FinancialYear(2026)
	pos, err := s.GetCommissionerPosition(ctx, "QNQ", year)
	if err != nil {
		t.Fatal(err)
	}
	if pos.Name() != "commissioners/QNQ/positions/2026-27" || len(pos.PCNs) != 3 || pos.ReadTime.IsZero() {
		t.Fatalf("position = %s with %d PCNs at %v; want QNQ's 3", pos.Name(), len(pos.PCNs), pos.ReadTime)
	}
	var total claims.PCNPosition
	for _, p := range pos.PCNs {
		b, err := s.GetBudget(ctx, p.PCNCode, year)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(p.EntitlementPence, p.SubmittedPence, p.ApprovedPence, p.PaidPence, p.ForecastPence,
			p.RemainingPence(), p.UnderspendPence(), p.MissingRateMonths)
		want := fmt.Sprint(b.EntitlementPence, b.SubmittedPence, b.ApprovedPence, b.PaidPence, b.ForecastPence,
			b.RemainingPence(), b.UnderspendPence(), b.MissingRateMonths)
		if got != want || p.CommissionerCode != "QNQ" || !p.HasEntitlement {
			t.Errorf("%s: position %s, budget %s", p.PCNCode, got, want)
		}
		total.EntitlementPence += b.EntitlementPence
		total.SubmittedPence += b.SubmittedPence
		total.ApprovedPence += b.ApprovedPence
		total.PaidPence += b.PaidPence
		total.ForecastPence += b.ForecastPence
	}
	if pos.Total.EntitlementPence != total.EntitlementPence || pos.Total.SubmittedPence != total.SubmittedPence ||
		pos.Total.ApprovedPence != total.ApprovedPence || pos.Total.PaidPence != total.PaidPence ||
		pos.Total.ForecastPence != total.ForecastPence || pos.Total.UnderspendPence() != total.UnderspendPence() {
		t.Errorf("total = %+v, want the PCNs' budgets added: %+v", pos.Total, total)
	}

	// The claims waiting, against the review queue.
	queue, _, err := s.ReviewQueue(ctx, "QNQ", claims.Page{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	waiting := map[string]int{}
	oldest := map[string]time.Time{}
	for _, item := range queue {
		c := item.Claim
		if c.State != claims.ClaimSubmitted || c.Month.FinancialYear() != year {
			continue
		}
		waiting[c.PCNCode]++
		if o, ok := oldest[c.PCNCode]; !ok || c.SubmitTime.Before(o) {
			oldest[c.PCNCode] = *c.SubmitTime
		}
	}
	sum := 0
	for _, p := range pos.PCNs {
		sum += p.ClaimsWaiting
		if p.ClaimsWaiting != waiting[p.PCNCode] || !p.OldestWaitingSince.Equal(oldest[p.PCNCode]) {
			t.Errorf("%s: %d waiting since %v, want %d since %v", p.PCNCode, p.ClaimsWaiting, p.OldestWaitingSince,
				waiting[p.PCNCode], oldest[p.PCNCode])
		}
	}
	if sum == 0 || pos.Total.ClaimsWaiting != sum {
		t.Errorf("total waiting = %d, want %d (and some)", pos.Total.ClaimsWaiting, sum)
	}
}

func TestCommissionerPositionIsScoped(t *testing.T) {
	s := demoStore(t)
	year := claims.FinancialYear(2026)
	tests := []struct {
		name         string
		actor        claims.Actor
		commissioner string
		pcns         int // -1: NOT_FOUND
	}{
		{"its own commissioner", qnqApprover, "QNQ", 3},
		{"another commissioner's", otherICB, "QNQ", -1},
		{"every commissioner, as a commissioner", qnqApprover, "-", -1},
		{"a PCN", riverside, "QNQ", -1},
		{"national, one commissioner", national, "QNQ", 3},
		{"national, every PCN", national, "-", -2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pos, err := s.GetCommissionerPosition(claims.WithActor(context.Background(), tt.actor), tt.commissioner, year)
			switch {
			case tt.pcns == -1:
				var e *claims.Error
				if !errors.As(err, &e) || e.Kind != claims.KindNotFound || len(pos.PCNs) != 0 {
					t.Fatalf("got %d PCNs, %v; want NOT_FOUND and nothing", len(pos.PCNs), err)
				}
			case err != nil:
				t.Fatal(err)
			case tt.pcns == -2:
				every, _, err := s.ListPCNs(claims.WithActor(context.Background(), national), "", claims.Page{Size: 1000})
				if err != nil || len(pos.PCNs) != len(every) || pos.CommissionerCode != "-" {
					t.Fatalf("every PCN: %d, want %d (%v)", len(pos.PCNs), len(every), err)
				}
			case len(pos.PCNs) != tt.pcns:
				t.Fatalf("%d PCNs, want %d", len(pos.PCNs), tt.pcns)
			}
		})
	}
}

// The statistics, against the claims and their lines added up here: by
// month, sub-ICB location and role, approved and paid claims' lines as headcount, FTE and
// spend; submitted and queried ones as pending.
func TestWorkforceStatisticsAddUpTheClaims(t *testing.T) {
	s := demoStore(t)
	ctx := claims.WithActor(context.Background(), qnqApprover)
	year := claims.FinancialYear(2026)
	type key struct{ month, subICB, role string }
	want := figuresFromLines(t, ctx, s, year, func(c claims.Claim, l claims.ClaimLine) key {
		return key{c.Month.String(), string(c.SubICBLocationCode), l.RoleID}
	})
	if len(want) == 0 {
		t.Fatal("the demo has no claims to count")
	}
	rows, next, err := s.ListWorkforceStatistics(ctx, "QNQ", "", year, claims.Page{Size: 1000})
	if err != nil || next != "" {
		t.Fatalf("next %q, %v", next, err)
	}
	if len(rows) != len(want) {
		t.Errorf("%d rows, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		w, ok := want[key{r.Month.String(), r.SubICBLocationCode, r.RoleID}]
		if !ok || r.CommissionerCode != "QNQ" {
			t.Errorf("unexpected row %+v", r)
			continue
		}
		if got := figuresOf(r); got != w {
			t.Errorf("%s %s: %+v, want %+v", r.Month, r.RoleID, got, w)
		}
	}

	// Paging walks the same rows.
	var paged []claims.WorkforceStatistic
	page := claims.Page{Size: 2}
	for {
		p, next, err := s.ListWorkforceStatistics(ctx, "QNQ", "", year, page)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, p...)
		if next == "" {
			break
		}
		page.After = next
	}
	if fmt.Sprint(paged) != fmt.Sprint(rows) {
		t.Errorf("paged by 2:\n%v\nwant\n%v", paged, rows)
	}

	// Another commissioner's staff and PCNs see nothing; national sees QNQ's the same.
	for _, a := range []claims.Actor{otherICB, riverside} {
		if _, _, err := s.ListWorkforceStatistics(claims.WithActor(context.Background(), a), "QNQ", "", year, claims.Page{Size: 10}); !claims.IsKind(err, claims.KindNotFound) {
			t.Errorf("%s: %v, want NOT_FOUND", a.OrgCode, err)
		}
	}
	nat, _, err := s.ListWorkforceStatistics(claims.WithActor(context.Background(), national), "-", "", year, claims.Page{Size: 1000})
	if err != nil || len(nat) < len(rows) {
		t.Errorf("national: %d rows, %v; want at least QNQ's %d", len(nat), err, len(rows))
	}
}

// workforceFigures is what a workforce statistics row reports.
type workforceFigures struct {
	headcount, pendingHeadcount int
	fte, pendingFTE             claims.Decimal
	spend, pendingSpend         int64
}

func figuresOf(r claims.WorkforceStatistic) workforceFigures {
	return workforceFigures{r.Headcount, r.PendingHeadcount, r.FTE, r.PendingFTE, r.SpendPence, r.PendingSpendPence}
}

func (f workforceFigures) plus(g workforceFigures) workforceFigures {
	return workforceFigures{f.headcount + g.headcount, f.pendingHeadcount + g.pendingHeadcount, f.fte + g.fte,
		f.pendingFTE + g.pendingFTE, f.spend + g.spend, f.pendingSpend + g.pendingSpend}
}

// figuresFromLines adds up the year's QNQ claims line by line, as the
// workforce publication counts them and by key: approved and paid claims'
// lines as headcount, FTE and spend, submitted and queried ones' as
// pending; a top-up's lines count for spend only.
func figuresFromLines[K comparable](t *testing.T, ctx context.Context, s *claims.Store, year claims.FinancialYear,
	key func(claims.Claim, claims.ClaimLine) K) map[K]workforceFigures {
	t.Helper()
	all, _, err := s.ListClaims(ctx, claims.ClaimFilter{Year: year, WithLines: true}, claims.Page{Size: 1000})
	if err != nil {
		t.Fatal(err)
	}
	want := map[K]workforceFigures{}
	for _, c := range all {
		approved := c.State == claims.ClaimApproved || c.State == claims.ClaimPaid
		pending := c.State == claims.ClaimSubmitted || c.State == claims.ClaimQueried
		if c.CommissionerCode != "QNQ" || !approved && !pending {
			continue
		}
		monthly := c.Kind == claims.MonthlyClaim
		for _, l := range c.Lines {
			var f workforceFigures
			switch {
			case approved:
				f.spend = l.Approved()
				if monthly {
					f.headcount, f.fte = 1, l.WTE
				}
			default:
				f.pendingSpend = l.Approved()
				if monthly {
					f.pendingHeadcount, f.pendingFTE = 1, l.WTE
				}
			}
			k := key(c, l)
			want[k] = want[k].plus(f)
		}
	}
	return want
}

// A PCN's forecast in the position is its budget's when its posts end
// within the months forecast and when a plan was given up (ENDED with
// nobody named): the position reads only the columns of a post a forecast
// needs, and this catches one it leaves out.
func TestCommissionerPositionForecastsEndedPostsAsGetBudget(t *testing.T) {
	s := demoStore(t)
	cd := claims.WithActor(context.Background(), riverside)
	year := claims.FinancialYear(2026)
	before, err := s.GetBudget(cd, "U12345", year)
	if err != nil {
		t.Fatal(err)
	}
	leaving := careCoordinator(t, "cc-leaving", "Dai Morgan", "2026-04-01")
	p, err := s.CreatePost(cd, claims.Request{}, leaving)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EndPost(cd, "U12345", p.ID, "", day(t, "2027-01-15")); err != nil {
		t.Fatal(err)
	}
	plan := careCoordinator(t, "cc-plan", "", "2026-04-01")
	if p, err = s.CreatePost(cd, claims.Request{}, plan); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EndPost(cd, "U12345", p.ID, "", day(t, "2026-12-31")); err != nil {
		t.Fatal(err)
	}
	b, err := s.GetBudget(cd, "U12345", year)
	if err != nil {
		t.Fatal(err)
	}
	if b.ForecastPence <= before.ForecastPence {
		t.Fatalf("forecast %d after a post to January, want more than %d", b.ForecastPence, before.ForecastPence)
	}
	pos, err := s.GetCommissionerPosition(claims.WithActor(context.Background(), national), "-", year)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pos.PCNs {
		if p.PCNCode != "U12345" {
			continue
		}
		if p.ForecastPence != b.ForecastPence || p.MissingRateMonths != b.MissingRateMonths {
			t.Errorf("position forecasts %d (%d months without a rate), budget %d (%d)",
				p.ForecastPence, p.MissingRateMonths, b.ForecastPence, b.MissingRateMonths)
		}
		return
	}
	t.Fatal("U12345 is not in England's position")
}
