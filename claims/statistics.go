package claims

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// The claim states the statistics count: approved (as published) and
// pending.
var (
	approvedStates = pq.StringArray{string(ClaimApproved), string(ClaimPaid)}
	pendingStates  = pq.StringArray{string(ClaimSubmitted), string(ClaimQueried)}
)

// WorkforceStatistic is the workforce one commissioner reimbursed in one
// sub-ICB location (or with none recorded) in one role for one month: headcount and full-time equivalent from the lines of
// its PCNs' monthly claims, and what the claims (top-ups included) count
// for. Approved counts approved and paid claims, as the national workforce
// publication does; pending counts those submitted or queried, not yet
// approved, so the picture is live rather than a quarter late.
type WorkforceStatistic struct {
	Month            Month  `db:"month"`
	CommissionerCode string `db:"commissioner_code"`
	// SubICBLocationCode is the location of the claims' month, "" for
	// claims of PCNs with none recorded (and of CCGs, which had none).
	SubICBLocationCode string `db:"sub_icb_location_code"`
	RoleID             string `db:"role_id"`

	Headcount  int     `db:"headcount"`
	FTE        Decimal `db:"fte"`
	SpendPence int64   `db:"spend_pence"`

	PendingHeadcount  int     `db:"pending_headcount"`
	PendingFTE        Decimal `db:"pending_fte"`
	PendingSpendPence int64   `db:"pending_spend_pence"`
}

// Name is the row's key, "{month}/{commissioner}/{sub-ICB}/{role}", for
// paging.
func (w WorkforceStatistic) Name() string {
	return w.Month.String() + "/" + w.CommissionerCode + "/" + w.SubICBLocationCode + "/" + w.RoleID
}

// ListWorkforceStatistics lists the year's workforce statistics of one
// commissioner (or of every one, "-"), by month, commissioner, sub-ICB
// location and role; with subICB, only that location's (of commissioner).
// A commissioner's staff see their own commissioner's, and its locations';
// national staff any. The rows follow the claims: a claim belongs to the
// commissioner and location of its month, so a commissioner's rows add up
// to its total whatever its PCNs' locations are now.
func (s *Store) ListWorkforceStatistics(ctx context.Context, commissioner, subICB string, year FinancialYear, page Page) ([]WorkforceStatistic, string, error) {
	scope := scopeOf(ctx)
	if !(scope.kind == scopeAll || scope.kind == scopeCommissioner && scope.code == commissioner) {
		if subICB != "" {
			return nil, "", NotFound(subICBLocationName(commissioner, subICB))
		}
		return nil, "", &Error{Kind: KindNotFound, Reason: "RESOURCE_NOT_FOUND", Resource: commissionerName(commissioner),
			Message: fmt.Sprintf("%s not found", commissionerName(commissioner))}
	}
	a := args{year, pendingStates, approvedStates}
	// The conditions follow claims_statistics (financial year, commissioner,
	// location), each a prefix of it.
	where := "c.financial_year = $1 AND c.state IN ('submitted', 'queried', 'approved', 'paid')"
	if commissioner != "-" {
		where += " AND c.commissioner_code = " + a.add(commissioner)
	}
	if subICB != "" {
		where += " AND c.sub_icb_location_code = " + a.add(subICB)
	}
	having := ""
	if page.After != "" {
		key := strings.Split(page.After, "/")
		if len(key) != 4 {
			return nil, "", Invalid("page_token", "PAGE_TOKEN", "the page token is not one this listing gave")
		}
		month, err := ParseMonth(key[0])
		if err != nil {
			return nil, "", Invalid("page_token", "PAGE_TOKEN", "the page token is not one this listing gave")
		}
		// Rows are groups: the key compares the group's columns, in the
		// listing's order.
		having = " HAVING (c.month, c.commissioner_code, COALESCE(c.sub_icb_location_code, ''), t.role_id) > (" +
			a.add(month) + "::date, " + a.add(key[1]) + "::text COLLATE \"C\", " + a.add(key[2]) + "::text COLLATE \"C\", " +
			a.add(key[3]) + "::text COLLATE \"C\")"
	}
	var rows []WorkforceStatistic
	// Headcount and FTE come from monthly claims only: a top-up pays more
	// for the same people. Spend counts both. Each claim's lines come added
	// up by role (claim_role_totals, kept by the database as the lines
	// change: migration 00016), a row per claim and role rather than per
	// line.
	_, err := snapshot(ctx, s, func(q sqlx.QueryerContext) (struct{}, error) {
		if subICB != "" {
			if err := mustExist(ctx, q, subICBLocationName(commissioner, subICB),
				`SELECT EXISTS (SELECT 1 FROM sub_icb_locations WHERE commissioner_code = $1 AND code = $2)`,
				commissioner, subICB); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, sqlx.SelectContext(ctx, q, &rows, `SELECT c.month, c.commissioner_code,
			COALESCE(c.sub_icb_location_code, '') AS sub_icb_location_code, t.role_id,
			COALESCE(sum(t.lines) FILTER (WHERE c.state = ANY($3) AND c.kind = 'monthly'), 0) AS headcount,
			COALESCE(sum(t.wte) FILTER (WHERE c.state = ANY($3) AND c.kind = 'monthly'), 0) AS fte,
			COALESCE(sum(t.counted_pence) FILTER (WHERE c.state = ANY($3)), 0)::bigint AS spend_pence,
			COALESCE(sum(t.lines) FILTER (WHERE c.state = ANY($2) AND c.kind = 'monthly'), 0) AS pending_headcount,
			COALESCE(sum(t.wte) FILTER (WHERE c.state = ANY($2) AND c.kind = 'monthly'), 0) AS pending_fte,
			COALESCE(sum(t.counted_pence) FILTER (WHERE c.state = ANY($2)), 0)::bigint AS pending_spend_pence
			FROM claims c JOIN claim_role_totals t ON t.pcn_code = c.pcn_code AND t.claim_id = c.id
			WHERE `+where+`
			GROUP BY c.month, c.commissioner_code, COALESCE(c.sub_icb_location_code, ''), t.role_id`+having+`
			ORDER BY c.month, c.commissioner_code, COALESCE(c.sub_icb_location_code, ''), t.role_id
			LIMIT `+a.add(page.Size+1), a...)
	})
	if err != nil {
		return nil, "", err
	}
	rows, next := pageOf(rows, page.Size)
	return rows, next, nil
}
