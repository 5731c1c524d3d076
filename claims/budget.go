package claims

import (
	"context"
	"fmt"
	"sort"

	"github.com/jmoiron/sqlx"
)

// Budget is a PCN's live budget position for a financial year.
type Budget struct {
	PCNCode           string
	Year              FinancialYear
	EntitlementPence  int64
	DraftPence        int64
	SubmittedPence    int64 // submitted and queried
	ApprovedPence     int64
	PaidPence         int64
	ForecastFrom      Month
	ForecastPence     int64
	Roles             []RoleBudget
	Months            []BudgetMonth // April to March, for charting the year's pace
	MissingRateMonths int           // months of posts the forecast could not price
}

// BudgetMonth is one month of a budget's year: what was claimed for it, the
// running total against the entitlement's even pace, and the forecast. The
// months' figures add up to the budget's: the last month's cumulative claimed
// is submitted + approved + paid, and its projected is that plus the forecast.
type BudgetMonth struct {
	Month Month
	// ClaimedPence counts the month's submitted, queried, approved and paid
	// claims (its monthly claim and its top-ups), as the budget counts them.
	ClaimedPence int64
	// CumulativeClaimedPence is ClaimedPence from April to this month.
	CumulativeClaimedPence int64
	// PacePence is how much of the entitlement an even spend would have used
	// by the end of the month: EntitlementPace.
	PacePence int64
	// ForecastPence is the forecast for the month: 0 before ForecastFrom.
	ForecastPence int64
	// ProjectedPence is CumulativeClaimedPence plus the forecast from
	// ForecastFrom to this month: where the year is heading.
	ProjectedPence int64
}

// EntitlementPace is how much of a year's entitlement an even spend uses by
// the end of its k-th month (April is 1): k twelfths, rounded half up to the
// penny from the whole, not added up month by month, so March is exactly
// the entitlement. For £1,000,000.01 (100000001 pence), after May: 100000001
// × 2 ÷ 12 = 16666666.83, so 16666667 pence.
func EntitlementPace(entitlementPence int64, k int) int64 {
	if entitlementPence <= 0 || k <= 0 {
		return 0
	}
	return divRoundHalfUp(entitlementPence*int64(min(k, 12)), 12)
}

// RoleBudget is one role's share of a budget.
type RoleBudget struct {
	RoleID         string
	SubmittedPence int64
	ApprovedPence  int64
	PaidPence      int64
	ForecastPence  int64
}

// Name is the resource name.
func (b Budget) Name() string { return "pcns/" + b.PCNCode + "/budgets/" + b.Year.String() }

// RemainingPence is what the entitlement has left once submitted, approved
// and paid claims are counted.
func (b Budget) RemainingPence() int64 {
	return b.EntitlementPence - b.SubmittedPence - b.ApprovedPence - b.PaidPence
}

// UnderspendPence is what would go unclaimed if the forecast came true;
// negative means the posts would cost more than remains.
func (b Budget) UnderspendPence() int64 { return b.RemainingPence() - b.ForecastPence }

// GetBudget works out a PCN's budget position for a year from its
// entitlement, its claims, and a forecast: every post in post or planned, at
// its cap, for each month from the one after the latest claimed month (or
// the year's first month) to March. Its figures are read at one moment, so
// they always add up. A year that does not exist, or for which the PCN has
// no entitlement yet, has no budget: NOT_FOUND, saying which is missing.
func (s *Store) GetBudget(ctx context.Context, pcn string, year FinancialYear) (Budget, error) {
	return snapshot(ctx, s, func(q sqlx.QueryerContext) (Budget, error) { return getBudget(ctx, q, pcn, year) })
}

func getBudget(ctx context.Context, q sqlx.QueryerContext, pcn string, year FinancialYear) (Budget, error) {
	b := Budget{PCNCode: pcn, Year: year}
	if err := pcnVisible(ctx, q, pcn); err != nil {
		return b, err
	}
	e, err := getEntitlement(ctx, q, entitlementName(pcn, year))
	if IsKind(err, KindNotFound) {
		return b, budgetMissing(ctx, q, b, year)
	}
	if err != nil {
		return b, err
	}
	b.EntitlementPence = e.AmountPence()

	var sums []struct {
		State  ClaimState `db:"state"`
		RoleID string     `db:"role_id"`
		Month  Month      `db:"month"`
		Pence  int64      `db:"pence"`
	}
	if err := sqlx.SelectContext(ctx, q, &sums, `SELECT c.state, l.role_id, c.month, SUM(`+countedPence+`)::bigint AS pence
		FROM claims c JOIN claim_lines l ON l.pcn_code = c.pcn_code AND l.claim_id = c.id
		WHERE c.pcn_code = $1 AND c.financial_year = $2 AND (c.state = ANY($3) OR c.state = $4)
		GROUP BY c.state, l.role_id, c.month`, pcn, year, committedStates, ClaimDraft); err != nil {
		return b, err
	}
	roles := map[string]*RoleBudget{}
	role := func(id string) *RoleBudget {
		if roles[id] == nil {
			roles[id] = &RoleBudget{RoleID: id}
		}
		return roles[id]
	}
	claimed := map[Month]int64{}
	for _, s := range sums {
		r := role(s.RoleID)
		if s.State != ClaimDraft {
			claimed[s.Month] += s.Pence
		}
		switch s.State {
		case ClaimDraft:
			b.DraftPence += s.Pence
		case ClaimSubmitted, ClaimQueried:
			b.SubmittedPence += s.Pence
			r.SubmittedPence += s.Pence
		case ClaimApproved:
			b.ApprovedPence += s.Pence
			r.ApprovedPence += s.Pence
		case ClaimPaid:
			b.PaidPence += s.Pence
			r.PaidPence += s.Pence
		}
	}

	var latest *Month
	if err := sqlx.GetContext(ctx, q, &latest, `SELECT max(month) FROM claims
		WHERE pcn_code = $1 AND financial_year = $2 AND state <> 'withdrawn'`, pcn, year); err != nil {
		return b, err
	}
	b.ForecastFrom = MonthOf(year.Start())
	if latest != nil {
		b.ForecastFrom = latest.Next()
	}
	last := MonthOf(year.End())
	forecast := map[Month]int64{}
	if !last.Before(b.ForecastFrom) {
		cc, err := loadClaimContext(ctx, q, pcn)
		if err != nil {
			return b, err
		}
		for _, p := range cc.posts {
			perMonth, missing := ForecastCaps(b.ForecastFrom, last, p, cc.roles[p.RoleID], cc.rates[p.RoleID], cc.zone)
			b.MissingRateMonths += len(missing)
			for m, pence := range perMonth {
				b.ForecastPence += pence
				role(p.RoleID).ForecastPence += pence
				forecast[m] += pence
			}
		}
	}
	for _, r := range roles {
		b.Roles = append(b.Roles, *r)
	}
	sort.Slice(b.Roles, func(i, j int) bool { return b.Roles[i].RoleID < b.Roles[j].RoleID })
	b.Months = budgetMonths(year, b.EntitlementPence, claimed, forecast)
	return b, nil
}

// budgetMonths lays out a year's twelve months from what was claimed and
// forecast for each.
func budgetMonths(year FinancialYear, entitlement int64, claimed, forecast map[Month]int64) []BudgetMonth {
	out := make([]BudgetMonth, 0, 12)
	var cumulative, projected int64
	m := MonthOf(year.Start())
	for k := 1; k <= 12; k, m = k+1, m.Next() {
		cumulative += claimed[m]
		projected += claimed[m] + forecast[m]
		out = append(out, BudgetMonth{Month: m, ClaimedPence: claimed[m], CumulativeClaimedPence: cumulative,
			PacePence: EntitlementPace(entitlement, k), ForecastPence: forecast[m], ProjectedPence: projected})
	}
	return out
}

// budgetMissing says why a PCN has no budget for a year: the year does not
// exist, or the PCN has no entitlement for it yet.
func budgetMissing(ctx context.Context, q sqlx.QueryerContext, b Budget, year FinancialYear) error {
	if _, err := getFundingYear(ctx, q, financialYearName(year)); err != nil {
		if IsKind(err, KindNotFound) {
			return &Error{Kind: KindNotFound, Reason: "FINANCIAL_YEAR_NOT_FOUND", Resource: b.Name(),
				Message: fmt.Sprintf("%s has no budget: %s does not exist", b.Name(), financialYearName(year))}
		}
		return err
	}
	return &Error{Kind: KindNotFound, Reason: "NO_ENTITLEMENT", Resource: b.Name(),
		Message: fmt.Sprintf("%s has no budget: %s has no entitlement for %s yet", b.Name(), pcnName(b.PCNCode), year)}
}
