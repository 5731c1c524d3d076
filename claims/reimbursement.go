// The monthly claim line calculation: which posts get a line, the most a line
// may reimburse (its cap), what was actually paid, and the forecast of caps.
//
// Rounding. Money is integer pence and a cap is rounded exactly once, half up,
// at the very end:
//
//	cap = round half up ( Σ_segments(AnnualMaxPence × Days) × WTE
//	                      ÷ (DecimalScale × DaysInYear) )
//
// where WTE is a Decimal (ten-thousandths), so DecimalScale turns it back
// into a fraction, and DaysInYear is 365 or 366 for the financial year that
// holds the month (a month never straddles two). Rounding per day or per
// segment instead would let the same month come out a penny apart depending
// on where a pay award fell, and a commissioner re-working a line by hand
// from its segments must get the same penny. The arithmetic is exact in
// int64: a maximum is at most maxAnnualPence (10^8), a month has at most 31
// days and WTE at most DecimalScale (10^4), so the numerator is below
// 3.1 × 10^13.

package claims

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"
)

var monthPattern = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})$`)

// Month is a calendar month, written "2025-04". Claims are monthly, so the
// month is the unit a claim, its lines and the forecast are counted in. The
// zero Month means "not set". Months are comparable and may be map keys.
type Month struct {
	year  int
	month time.Month
}

// ParseMonth reads a month written strictly as "YYYY-MM" (for example
// "2025-04") from 2000 on. Nothing looser is accepted, because the month is
// part of a claim's resource name and two spellings must not name one claim.
func ParseMonth(s string) (Month, error) {
	m := monthPattern.FindStringSubmatch(s)
	if m == nil {
		return Month{}, fmt.Errorf("%q is not a month of the form YYYY-MM, for example 2025-04", s)
	}
	year, _ := strconv.Atoi(m[1])
	month, _ := strconv.Atoi(m[2])
	if month < 1 || month > 12 {
		return Month{}, fmt.Errorf("%q is not a month: the month number must be 01 to 12", s)
	}
	if year < 2000 {
		return Month{}, fmt.Errorf("%q is before 2000; ARRS began in 2019", s)
	}
	return Month{year: year, month: time.Month(month)}, nil
}

// MonthOf returns the month containing d.
func MonthOf(d Date) Month {
	if d.IsZero() {
		return Month{}
	}
	return Month{year: d.Year(), month: d.Month()}
}

// IsZero reports whether the month is unset.
func (m Month) IsZero() bool { return m == Month{} }

// String returns "2025-04", or "" when unset.
func (m Month) String() string {
	if m.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d", m.year, int(m.month))
}

// First returns the first day of the month.
func (m Month) First() Date { return NewDate(m.year, m.month, 1) }

// Last returns the last day of the month.
func (m Month) Last() Date { return m.Next().First().AddDays(-1) }

// Days returns the number of days in the month (28 to 31).
func (m Month) Days() int { return m.First().DaysUntil(m.Next().First()) }

// Next returns the month after m.
func (m Month) Next() Month {
	if m.month == time.December {
		return Month{year: m.year + 1, month: time.January}
	}
	return Month{year: m.year, month: m.month + 1}
}

// Before reports whether m is strictly before n.
func (m Month) Before(n Month) bool {
	return m.year < n.year || (m.year == n.year && m.month < n.month)
}

// FinancialYear returns the financial year the month falls in; a month never
// straddles two, since years start on 1 April.
func (m Month) FinancialYear() FinancialYear { return FinancialYearOf(m.First()) }

// Scan reads a PostgreSQL date column holding the month's first day. Any
// other day means the row is corrupt, so it is an error rather than rounded
// down. NULL is the zero Month.
func (m *Month) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*m = Month{}
	case time.Time:
		d := DateOf(v)
		if d.Day() != 1 {
			return fmt.Errorf("month column holds %s, which is not the first day of a month", d)
		}
		*m = MonthOf(d)
	default:
		return fmt.Errorf("cannot scan %T into Month", src)
	}
	return nil
}

// Value writes the month's first day for a PostgreSQL date column; the zero
// Month is NULL.
func (m Month) Value() (driver.Value, error) {
	if m.IsZero() {
		return nil, nil
	}
	return m.First().String(), nil
}

// MarshalJSON writes "2025-04" (null when unset), as the audit trail records
// it.
func (m Month) MarshalJSON() ([]byte, error) {
	if m.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + m.String() + `"`), nil
}

// CapSegment is a run of days in the month on which one maximum rate
// applied. A line keeps its segments so that anyone can re-work its cap by
// hand, and so that a later backdated rate shows which days it changes.
type CapSegment struct {
	From Date `json:"from_date"` // first day, inclusive
	To   Date `json:"to_date"`   // last day, inclusive
	Days int  `json:"days"`
	// AnnualMaxPence is the role's maximum at 1.0 WTE in the PCN's zone.
	AnnualMaxPence int64 `json:"annual_max_pence"`
	// RateEffective is the effective date of the rate used; with the role
	// it names the rate.
	RateEffective Date `json:"rate_effective"`
}

// UnmarshalJSON reads a segment as MarshalJSON writes it, so a line's
// segments can be stored as JSON and read back (Date itself reads only from
// PostgreSQL).
func (s *CapSegment) UnmarshalJSON(b []byte) error {
	var raw struct {
		From           string `json:"from_date"`
		To             string `json:"to_date"`
		Days           int    `json:"days"`
		AnnualMaxPence int64  `json:"annual_max_pence"`
		RateEffective  string `json:"rate_effective"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := CapSegment{Days: raw.Days, AnnualMaxPence: raw.AnnualMaxPence}
	for _, f := range []struct {
		dst *Date
		src string
	}{{&out.From, raw.From}, {&out.To, raw.To}, {&out.RateEffective, raw.RateEffective}} {
		d, err := ParseDate(f.src)
		if err != nil {
			return err
		}
		*f.dst = d
	}
	*s = out
	return nil
}

// LineCap is the most a line may reimburse, and how it was worked out.
type LineCap struct {
	Pence int64
	// ActiveDays counts the days of the month the post was active and the
	// role reimbursable; it is the sum of the segments' Days.
	ActiveDays int
	// DaysInYear is the number of days in the financial year holding the
	// month: 366 in a year containing 29 February, else 365.
	DaysInYear int
	WTE        Decimal
	Segments   []CapSegment
}

// ComputeCap works out the most a post's line may reimburse in a month: the
// scheme pays actual costs only up to the role's annual maximum, pro rata for
// WTE and for the days in post. Summed over the days d of the month on which
// the post is active (StartDate to EndDate, an unset EndDate being open) and
// the role reimbursable (ReimbursableFrom to ReimbursableTo):
//
//	annual maximum in force on d in zone × wte ÷ days in the financial year
//
// rounded once, half up, to the penny (see the file comment). The maximum in
// force on d is that of the latest rate with EffectiveDate on or before d;
// rates are the role's, in any order (other roles' rates are ignored, so the
// whole catalogue may be passed). A rate taking effect mid-month splits the
// month into segments.
//
// ComputeCap does not decide whether the post may be claimed at all (see
// Eligibility). A month with no active day has a cap of 0 and needs no rate.
// Errors are domain errors: an active day with no rate in force is
// FAILED_PRECONDITION RATE_NOT_IN_FORCE naming the day, since the catalogue
// lacks the rate; two rates on one date, or a maximum outside the catalogue's
// bounds, are FAILED_PRECONDITION too; wte outside (0, 1] is INVALID_ARGUMENT.
func ComputeCap(month Month, post Post, role Role, rates []Rate, zone WeightingZone, wte Decimal) (LineCap, error) {
	fy := month.FinancialYear()
	c := LineCap{DaysInYear: fy.Start().DaysUntil(fy.End()) + 1, WTE: wte}
	var vs Violations
	checkWTE(&vs, "wte", wte)
	if err := vs.Err(); err != nil {
		return c, err
	}
	own, err := roleRates(role, rates)
	if err != nil {
		return c, err
	}
	var sum int64 // Σ AnnualMaxPence × Days, at most 31 × maxAnnualPence
	for d := month.First(); !d.After(month.Last()); d = d.AddDays(1) {
		if !activeOn(post, d) || !reimbursableOn(role, d) {
			continue
		}
		r, ok := rateInForce(own, d)
		if !ok {
			return c, FailedPrecondition(role.Name(), "RATE_NOT_IN_FORCE", fmt.Sprintf(
				"%s has no maximum rate in force on %s; add the rate to the catalogue before claiming", role.Name(), d))
		}
		annual := r.MaxPence(zone)
		if annual <= 0 || annual > maxAnnualPence {
			return c, FailedPrecondition(r.Name(), "RATE_OUT_OF_RANGE", fmt.Sprintf(
				"%s gives %d pence in zone %s; a maximum is more than 0 and at most %d pence", r.Name(), annual, zone, maxAnnualPence))
		}
		sum += annual
		c.ActiveDays++
		if n := len(c.Segments); n > 0 && sameDay(c.Segments[n-1].To.AddDays(1), d) && sameDay(c.Segments[n-1].RateEffective, r.EffectiveDate) {
			c.Segments[n-1].To = d
			c.Segments[n-1].Days++
			continue
		}
		c.Segments = append(c.Segments, CapSegment{From: d, To: d, Days: 1, AnnualMaxPence: annual, RateEffective: r.EffectiveDate})
	}
	c.Pence = divRoundHalfUp(sum*int64(wte), DecimalScale*int64(c.DaysInYear))
	return c, nil
}

// roleRates returns role's rates in effective-date order, refusing two on
// one date: which one applies would then depend on the order they came in.
func roleRates(role Role, rates []Rate) ([]Rate, error) {
	var own []Rate
	for _, r := range rates {
		if r.RoleID == role.ID {
			own = append(own, r)
		}
	}
	slices.SortFunc(own, func(a, b Rate) int { return a.EffectiveDate.t.Compare(b.EffectiveDate.t) })
	for i := 1; i < len(own); i++ {
		if sameDay(own[i].EffectiveDate, own[i-1].EffectiveDate) {
			return nil, FailedPrecondition(own[i].Name(), "RATE_DUPLICATE",
				fmt.Sprintf("%s is given twice; a role has one rate per effective date", own[i].Name()))
		}
	}
	return own, nil
}

// rateInForce returns the latest of sorted whose effective date is on or
// before d.
func rateInForce(sorted []Rate, d Date) (Rate, bool) {
	for i := len(sorted) - 1; i >= 0; i-- {
		if !sorted[i].EffectiveDate.After(d) {
			return sorted[i], true
		}
	}
	return Rate{}, false
}

// sameDay reports whether a and b are the same day, whatever their
// time.Time's location pointer.
func sameDay(a, b Date) bool { return !a.Before(b) && !a.After(b) }

// divRoundHalfUp returns num ÷ den rounded half up; num >= 0 and den > 0.
func divRoundHalfUp(num, den int64) int64 {
	q, r := num/den, num%den
	if 2*r >= den {
		q++
	}
	return q
}

// activeOn reports whether the post is in post on d. A post without a start
// date is never active: paying from the beginning of time is the wrong way
// to fail.
func activeOn(p Post, d Date) bool {
	return !p.StartDate.IsZero() && !d.Before(p.StartDate) && (p.EndDate.IsZero() || !d.After(p.EndDate))
}

// reimbursableOn reports whether the role is reimbursable on d. A role
// without a first reimbursable day is never reimbursable.
func reimbursableOn(r Role, d Date) bool {
	return !r.ReimbursableFrom.IsZero() && !d.Before(r.ReimbursableFrom) &&
		(r.ReimbursableTo.IsZero() || !d.After(r.ReimbursableTo))
}

// maxLinePence bounds each cost component of one line: more than £50,000 in a
// month for one staff member is a typing error.
const maxLinePence = 5_000_000

// Costs are what the PCN actually paid for one staff member in the month, in
// pence. The scheme reimburses actual spend, so these come from the payslip.
type Costs struct {
	GrossSalary     int64
	EmployerNI      int64
	EmployerPension int64
	// Overtime is paid at plain-time rate: only that is claimable.
	Overtime int64
	// AbsenceAdjustment reduces the claim in line with reduced pay during
	// sick or parental leave.
	AbsenceAdjustment int64
}

// ActualPence is gross + NI + pension + overtime − absence adjustment, never
// below 0: an adjustment can reduce a claim to nothing but never make the PCN
// owe money through a claim line. Costs that pass Validate cannot overflow.
func (c Costs) ActualPence() int64 {
	return max(c.GrossSalary+c.EmployerNI+c.EmployerPension+c.Overtime-c.AbsenceAdjustment, 0)
}

// Reimbursable is what a line may claim: the actual cost, up to the cap.
func Reimbursable(actual, capPence int64) int64 { return min(actual, capPence) }

// Validate records every bad component in vs, with field names
// prefix+"gross_salary_pence" and so on: each must be 0 to 5,000,000 pence,
// and the absence adjustment may not exceed the gross salary it reduces.
func (c Costs) Validate(vs *Violations, prefix string) {
	fields := []struct {
		name  string
		pence int64
	}{
		{"gross_salary_pence", c.GrossSalary},
		{"employer_ni_pence", c.EmployerNI},
		{"employer_pension_pence", c.EmployerPension},
		{"overtime_pence", c.Overtime},
		{"absence_adjustment_pence", c.AbsenceAdjustment},
	}
	inRange := true
	for _, f := range fields {
		switch {
		case f.pence < 0:
			vs.Add(prefix+f.name, "NOT_NEGATIVE", "must not be negative")
			inRange = false
		case f.pence > maxLinePence:
			vs.Add(prefix+f.name, "AMOUNT_TOO_LARGE", "at most 5000000 pence (£50,000) for one staff member in one month")
			inRange = false
		}
	}
	if inRange && c.AbsenceAdjustment > c.GrossSalary {
		vs.Add(prefix+"absence_adjustment_pence", "ABSENCE_EXCEEDS_GROSS",
			"the absence adjustment reduces the gross salary and cannot be more than it")
	}
}

// Why a post gets no line in a month (Eligibility's reasons).
const (
	// ExcludedBaseline: in post on 31 March 2019 in an original role, so
	// not additional and never claimable.
	ExcludedBaseline = "BASELINE"
	// ExcludedNotFilled: planned or recruiting; nobody is in post to pay.
	ExcludedNotFilled = "NOT_FILLED"
	// ExcludedNotInPost: not active on any day of the month.
	ExcludedNotInPost = "NOT_IN_POST"
	// ExcludedRoleNotReimbursable: the role is not reimbursable on any day
	// the post is active.
	ExcludedRoleNotReimbursable = "ROLE_NOT_REIMBURSABLE"
	// ExcludedRegistrationInvalid: a registered role without a registration
	// number valid for its register.
	ExcludedRegistrationInvalid = "REGISTRATION_INVALID"
)

// Eligibility says whether a post gets a line in a month and, if not, which
// Excluded… reason, checked in the order of the constants. A claim lists
// excluded posts with their reason so a PCN can see why a post was left out.
// An ENDED post that was filled is eligible for the days up to its end date.
// Eligibility does not need rates: a missing rate is the catalogue's fault,
// reported by ComputeCap, not a reason to leave a post out.
func Eligibility(month Month, post Post, role Role) (ok bool, reason string) {
	if post.Baseline {
		return false, ExcludedBaseline
	}
	if !post.Staffed() {
		return false, ExcludedNotFilled
	}
	active, reimbursable := false, false
	for d := month.First(); !d.After(month.Last()); d = d.AddDays(1) {
		if activeOn(post, d) {
			active = true
			reimbursable = reimbursable || reimbursableOn(role, d)
		}
	}
	switch {
	case !active:
		return false, ExcludedNotInPost
	case !reimbursable:
		return false, ExcludedRoleNotReimbursable
	case role.CheckRegistration(post.RegistrationNumber) != nil:
		return false, ExcludedRegistrationInvalid
	}
	return true, ""
}

// ForecastCaps is the most the post could cost in each month from from to to
// inclusive: its cap at the post's WTE, for the forecast of a PCN's
// underspend. PLANNED and RECRUITING posts are assumed to fill on their start
// date; baseline posts are never claimable and forecast 0. Every month in the
// range is a key of perMonth. A month whose cap cannot be worked out (no rate
// in force on an active day, in practice) counts 0 and is listed, in order,
// in missingRate, so the forecast still adds up and says what it lacks.
func ForecastCaps(from, to Month, post Post, role Role, rates []Rate, zone WeightingZone) (perMonth map[Month]int64, missingRate []Month) {
	perMonth = map[Month]int64{}
	if from.IsZero() || to.IsZero() {
		return perMonth, nil
	}
	for m := from; !to.Before(m); m = m.Next() {
		perMonth[m] = 0
		// A plan dropped from the workforce plan (ENDED with nobody named)
		// will cost nothing.
		if post.Baseline || (post.State == PostEnded && !post.Staffed()) {
			continue
		}
		c, err := ComputeCap(m, post, role, rates, zone, post.WTE)
		if err != nil {
			missingRate = append(missingRate, m)
			continue
		}
		perMonth[m] = c.Pence
	}
	return perMonth, missingRate
}
