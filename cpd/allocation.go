package cpd

import (
	"slices"

	"arrs.nhs.uk/arrs/claims"
)

// maxAmountPerHeadPence bounds a scheme's amount per head (£100,000), so
// that headcount × amount can never overflow int64 pence.
const maxAmountPerHeadPence = 10_000_000

// YearOf returns the scheme's i'th financial year (0 is the first).
func (s Scheme) YearOf(i int) claims.FinancialYear { return s.FirstYear + claims.FinancialYear(i) }

// LastYear is the scheme's last financial year.
func (s Scheme) LastYear() claims.FinancialYear { return s.YearOf(s.Years - 1) }

// Covers reports whether y is one of the scheme's years.
func (s Scheme) Covers(y claims.FinancialYear) bool { return y >= s.FirstYear && y <= s.LastYear() }

// Allocations computes a practice's allocation in each of the scheme's
// years from its eligible headcount: per head, regardless of WTE.
//
// Per year: every year is headcount × amount. Over the scheme: the
// practice's total, headcount × amount, is split equally across the years
// in whole pence, and the pence that do not divide go one each to the
// earliest years, so the years add up to the total exactly and no year
// differs from another by more than a penny. The split is of the practice's
// total, not of each head's amount, so rounding happens once per practice.
// Worked: 7 heads × £1,000.00 over 3 years = 700,000p; 700,000 / 3 =
// 233,333 r 1, so 2020-21 gets 233,334p and 2021-22 and 2022-23 233,333p.
func (s Scheme) Allocations(headcount int) []Allocation {
	total := int64(headcount) * s.AmountPerHeadPence
	out := make([]Allocation, s.Years)
	for i := range out {
		out[i].Scheme, out[i].Year = s.ID, s.YearOf(i)
		switch s.Basis {
		case PerYear:
			out[i].AmountPence = total
		case OverScheme:
			n := int64(s.Years)
			out[i].AmountPence = total / n
			if int64(i) < total%n {
				out[i].AmountPence++
			}
		}
	}
	return out
}

// validate checks a scheme before it is stored.
func (s Scheme) validate(vs *claims.Violations) {
	if !ValidID(s.ID) {
		vs.Add("cpd_scheme_id", "ID_FORMAT", "must be lower-case letters, digits and hyphens (up to 63)")
	}
	if l := len(s.DisplayName); l < 1 || l > 200 {
		vs.Add("cpd_scheme.display_name", "LENGTH", "must be 1 to 200 characters")
	}
	if s.Years < 1 || s.Years > 10 {
		vs.Add("cpd_scheme.years", "YEARS_RANGE", "a scheme runs 1 to 10 financial years")
	}
	if s.Basis != PerYear && s.Basis != OverScheme {
		vs.Add("cpd_scheme.amount_basis", "REQUIRED", "say whether the amount per head is per year or over the scheme")
	}
	if s.AmountPerHeadPence <= 0 || s.AmountPerHeadPence > maxAmountPerHeadPence {
		vs.Add("cpd_scheme.amount_per_head_pence", "AMOUNT_RANGE", "must be more than 0 and at most 10000000 pence (£100,000)")
	}
	if len(s.StaffGroups) == 0 {
		vs.Add("cpd_scheme.staff_groups", "REQUIRED", "name at least one eligible staff group")
	}
	for _, g := range s.StaffGroups {
		if !slices.Contains(StaffGroups, g) {
			vs.Add("cpd_scheme.staff_groups", "STAFF_GROUP", "%q is not a staff group", g)
		}
	}
	if s.FirstYear == 0 {
		vs.Add("cpd_scheme.first_year", "REQUIRED", "the scheme's first financial year is required")
	}
	if s.EndDate.IsZero() {
		vs.Add("cpd_scheme.end_date", "REQUIRED", "the scheme's end date is required")
	} else if s.Years >= 1 && s.FirstYear != 0 && claims.FinancialYearOf(s.EndDate) != s.LastYear() {
		vs.Add("cpd_scheme.end_date", "END_IN_LAST_YEAR", "the end date must fall in the scheme's last year, %s", s.LastYear())
	}
}
