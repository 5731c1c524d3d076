package claims

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// PCNPosition is one PCN's budget position for a year as a commissioner
// sees it: GetBudget's figures, with the claims waiting for the commissioner.
type PCNPosition struct {
	PCNCode          string
	DisplayName      string
	CommissionerCode string
	// SubICBLocationCode is the PCN's sub-ICB location now; "" when none
	// is recorded (and for the total).
	SubICBLocationCode string
	// HasEntitlement is false while the PCN has no entitlement for the
	// year: its entitlement and remaining are then 0.
	HasEntitlement    bool
	EntitlementPence  int64
	SubmittedPence    int64 // submitted and queried
	ApprovedPence     int64
	PaidPence         int64
	ForecastPence     int64
	MissingRateMonths int
	// ClaimsWaiting are the PCN's claims of the year submitted and not yet
	// approved, rejected or queried: waiting for the commissioner.
	ClaimsWaiting int
	// OldestWaitingSince is when the longest-waiting of them was submitted;
	// zero when none waits.
	OldestWaitingSince time.Time
}

// RemainingPence is what the entitlement has left once submitted, approved
// and paid claims are counted, as Budget.RemainingPence.
func (p PCNPosition) RemainingPence() int64 {
	return p.EntitlementPence - p.SubmittedPence - p.ApprovedPence - p.PaidPence
}

// UnderspendPence is what would go unclaimed if the forecast came true.
func (p PCNPosition) UnderspendPence() int64 { return p.RemainingPence() - p.ForecastPence }

// add adds q's money and waiting claims to p, for totals.
func (p *PCNPosition) add(q PCNPosition) {
	p.EntitlementPence += q.EntitlementPence
	p.SubmittedPence += q.SubmittedPence
	p.ApprovedPence += q.ApprovedPence
	p.PaidPence += q.PaidPence
	p.ForecastPence += q.ForecastPence
	p.MissingRateMonths += q.MissingRateMonths
	p.ClaimsWaiting += q.ClaimsWaiting
	if !q.OldestWaitingSince.IsZero() && (p.OldestWaitingSince.IsZero() || q.OldestWaitingSince.Before(p.OldestWaitingSince)) {
		p.OldestWaitingSince = q.OldestWaitingSince
	}
	p.HasEntitlement = p.HasEntitlement || q.HasEntitlement
}

// CommissionerPosition is every PCN of a commissioner (or of England) with
// its budget position for a year, and their total, read at one moment.
type CommissionerPosition struct {
	// CommissionerCode is the commissioner, or "-" for every PCN.
	CommissionerCode string
	Year             FinancialYear
	ReadTime         time.Time
	PCNs             []PCNPosition
	Total            PCNPosition
}

// Name is the resource name.
func (c CommissionerPosition) Name() string {
	return "commissioners/" + c.CommissionerCode + "/positions/" + c.Year.String()
}

// ParsePositionName reads "commissioners/{code}/positions/{year}"; code "-"
// means every commissioner.
func ParsePositionName(field, name string) (string, FinancialYear, error) {
	const pattern = "commissioners/{commissioner}/positions/{financial_year}"
	v, ok := segments(name, pattern)
	if !ok || (v[0] != "-" && !ccgCodePattern.MatchString(v[0])) {
		return "", 0, nameError(field, name, pattern)
	}
	year, err := ParseFinancialYear(v[1])
	if err != nil {
		return "", 0, nameError(field, name, pattern)
	}
	return v[0], year, nil
}

// GetCommissionerPosition reads the budget position of every PCN a
// commissioner commissions now ("-": every PCN in England) for a year, as
// GetBudget would for each, and their total. Everything is read in one
// snapshot with a fixed number of statements however many PCNs there are,
// so the figures add up and the national picture (1,250 PCNs) is one call.
// A commissioner's staff may read their own commissioner's; national staff
// any, and "-".
func (s *Store) GetCommissionerPosition(ctx context.Context, commissioner string, year FinancialYear) (CommissionerPosition, error) {
	out := CommissionerPosition{CommissionerCode: commissioner, Year: year}
	scope := scopeOf(ctx)
	switch {
	case scope.kind == scopeAll:
	case scope.kind == scopeCommissioner && scope.code == commissioner:
	default:
		return out, &Error{Kind: KindNotFound, Reason: "RESOURCE_NOT_FOUND", Resource: out.Name(),
			Message: fmt.Sprintf("%s not found", out.Name())}
	}
	return snapshot(ctx, s, func(q sqlx.QueryerContext) (CommissionerPosition, error) {
		if err := sqlx.GetContext(ctx, q, &out.ReadTime, `SELECT now()`); err != nil {
			return out, err
		}
		if _, err := getFundingYear(ctx, q, financialYearName(year)); err != nil {
			return out, err
		}
		if commissioner != "-" {
			if err := mustExist(ctx, q, commissionerName(commissioner),
				`SELECT EXISTS (SELECT 1 FROM commissioners WHERE code = $1)`, commissioner); err != nil {
				return out, err
			}
		}
		return out, readPositions(ctx, q, &out)
	})
}

// readPositions fills c's PCNs and total.
func readPositions(ctx context.Context, q sqlx.QueryerContext, c *CommissionerPosition) error {
	var pcns []struct {
		Code         string        `db:"code"`
		DisplayName  string        `db:"display_name"`
		Commissioner string        `db:"commissioner_code"`
		SubICB       OptionalCode  `db:"sub_icb_location_code"`
		Zone         WeightingZone `db:"weighting_zone"`
		Entitled     bool          `db:"entitled"`
		Population   Decimal       `db:"weighted_population"`
		Rate         Decimal       `db:"rate_per_weighted_patient"`
	}
	// "-" reads every PCN: the condition is left out rather than written
	// as "$2 = '-' OR ...", so the planner can use pcns_commissioner.
	a := args{c.Year}
	where := "true"
	if c.CommissionerCode != "-" {
		where = "p.commissioner_code = " + a.add(c.CommissionerCode)
	}
	if err := sqlx.SelectContext(ctx, q, &pcns, `SELECT p.code, p.display_name, p.commissioner_code, p.sub_icb_location_code, p.weighting_zone,
			e.pcn_code IS NOT NULL AS entitled, COALESCE(e.weighted_population, 0) AS weighted_population,
			COALESCE(y.rate_per_weighted_patient, 0) AS rate_per_weighted_patient
		FROM pcns p
		LEFT JOIN entitlements e ON e.pcn_code = p.code AND e.financial_year = $1
		LEFT JOIN financial_years y ON y.id = e.financial_year
		WHERE `+where+` ORDER BY p.code`, a...); err != nil {
		return err
	}
	if len(pcns) == 0 {
		return nil
	}
	codes := make(pq.StringArray, len(pcns))
	index := make(map[string]int, len(pcns))
	c.PCNs = make([]PCNPosition, len(pcns))
	zones := map[string]WeightingZone{}
	for i, p := range pcns {
		codes[i], index[p.Code], zones[p.Code] = p.Code, i, p.Zone
		c.PCNs[i] = PCNPosition{PCNCode: p.Code, DisplayName: p.DisplayName, CommissionerCode: p.Commissioner,
			SubICBLocationCode: string(p.SubICB), HasEntitlement: p.Entitled}
		if p.Entitled {
			c.PCNs[i].EntitlementPence = Entitlement{WeightedPopulation: p.Population, RatePerWeightedPatient: p.Rate}.AmountPence()
		}
	}

	// What the year's claims count for, by PCN and state; the latest month
	// claimed, from which the forecast runs; and the claims waiting.
	var sums []struct {
		PCN   string     `db:"pcn_code"`
		State ClaimState `db:"state"`
		Pence int64      `db:"pence"`
	}
	// forPCNs limits a query of claims c to the position's PCNs. England's
	// reads every PCN: the condition is left out then, so the planner hashes
	// the year's claims rather than probing a list of 1,250 codes.
	forPCNs := func(a *args) string {
		if c.CommissionerCode == "-" {
			return ""
		}
		return " AND c.pcn_code = ANY(" + a.add(codes) + ")"
	}
	sa := args{c.Year, committedStates}
	// Each claim's lines are added up on the claim (counted_pence): a claim
	// row each, not every line in England.
	if err := sqlx.SelectContext(ctx, q, &sums, `SELECT c.pcn_code, c.state, SUM(c.counted_pence)::bigint AS pence
		FROM claims c
		WHERE c.financial_year = $1 AND c.state = ANY($2)`+forPCNs(&sa)+`
		GROUP BY c.pcn_code, c.state`, sa...); err != nil {
		return err
	}
	for _, s := range sums {
		i, ok := index[s.PCN]
		if !ok {
			continue // not one of the PCNs read above: cannot happen in one snapshot
		}
		p := &c.PCNs[i]
		switch s.State {
		case ClaimSubmitted, ClaimQueried:
			p.SubmittedPence += s.Pence
		case ClaimApproved:
			p.ApprovedPence += s.Pence
		case ClaimPaid:
			p.PaidPence += s.Pence
		}
	}
	var claimed []struct {
		PCN     string    `db:"pcn_code"`
		Latest  *Month    `db:"latest"`
		Waiting int       `db:"waiting"`
		Oldest  time.Time `db:"oldest"`
	}
	ca := args{c.Year}
	if err := sqlx.SelectContext(ctx, q, &claimed, `SELECT pcn_code,
			max(month) FILTER (WHERE state <> 'withdrawn') AS latest,
			count(*) FILTER (WHERE state = 'submitted') AS waiting,
			COALESCE(min(submit_time) FILTER (WHERE state = 'submitted'), 'epoch') AS oldest
		FROM claims c WHERE financial_year = $1`+forPCNs(&ca)+`
		GROUP BY pcn_code`, ca...); err != nil {
		return err
	}
	from := map[string]Month{}
	for _, r := range claimed {
		i, ok := index[r.PCN]
		if !ok {
			continue
		}
		p := &c.PCNs[i]
		p.ClaimsWaiting = r.Waiting
		if r.Waiting > 0 {
			p.OldestWaitingSince = r.Oldest
		}
		if r.Latest != nil {
			from[r.PCN] = r.Latest.Next()
		}
	}
	if err := forecastPositions(ctx, q, c, codes, index, zones, from); err != nil {
		return err
	}
	for _, p := range c.PCNs {
		c.Total.add(p)
	}
	return nil
}

// forecastPostColumns are the columns of a post that ForecastCaps reads
// (its state, whether it was staffed or baseline, its WTE and dates; the
// role by its id). England's position reads every post in the country,
// 37,500 of them, and scanning them was three quarters of the call: most
// of it the columns a forecast never looks at, the two timestamps the
// costliest to parse. A column ForecastCaps (or ComputeCap under it)
// comes to need must be added here: the position tests compare each PCN's
// forecast with GetBudget's, which reads whole posts, with posts ending
// within the forecast and a plan given up among them.
const forecastPostColumns = `pcn_code, id, role_id, state, staff_name, wte, start_date, end_date, baseline`

// forecastPositions prices every post of the PCNs from the month after
// each one's latest claim to March, as GetBudget does for one PCN, with
// the posts, roles and rates of all of them read once.
func forecastPositions(ctx context.Context, q sqlx.QueryerContext, c *CommissionerPosition, codes pq.StringArray,
	index map[string]int, zones map[string]WeightingZone, from map[string]Month) error {
	last := MonthOf(c.Year.End())
	var posts []Post
	if err := sqlx.SelectContext(ctx, q, &posts, `SELECT `+forecastPostColumns+` FROM posts WHERE pcn_code = ANY($1)
		ORDER BY pcn_code, id`, codes); err != nil {
		return err
	}
	var roleIDs []string
	for _, p := range posts {
		roleIDs = append(roleIDs, p.RoleID)
	}
	slices.Sort(roleIDs)
	roleIDs = slices.Compact(roleIDs)
	var roles []Role
	if err := sqlx.SelectContext(ctx, q, &roles, `SELECT `+roleColumns+` FROM roles WHERE id = ANY($1)`, pq.Array(roleIDs)); err != nil {
		return err
	}
	if err := loadCaps(ctx, q, roles); err != nil {
		return err
	}
	byID := map[string]Role{}
	for _, r := range roles {
		byID[r.ID] = r
	}
	var rateRows []Rate
	if err := sqlx.SelectContext(ctx, q, &rateRows, `SELECT `+rateColumns+` FROM rates
		WHERE role_id = ANY($1) ORDER BY role_id, effective_date`, pq.Array(roleIDs)); err != nil {
		return err
	}
	rates := map[string][]Rate{}
	for _, r := range rateRows {
		rates[r.RoleID] = append(rates[r.RoleID], r)
	}
	for _, p := range posts {
		start, ok := from[p.PCNCode]
		if !ok {
			start = MonthOf(c.Year.Start())
		}
		if last.Before(start) {
			continue
		}
		perMonth, missing := ForecastCaps(start, last, p, byID[p.RoleID], rates[p.RoleID], zones[p.PCNCode])
		pos := &c.PCNs[index[p.PCNCode]]
		pos.MissingRateMonths += len(missing)
		for _, pence := range perMonth {
			pos.ForecastPence += pence
		}
	}
	return nil
}
