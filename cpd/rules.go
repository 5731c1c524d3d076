package cpd

import (
	"slices"
	"time"

	"arrs.nhs.uk/arrs/claims"
)

// needStaleMonths is how old an appraisal may be before the need it
// recorded is flagged: appraisals are yearly, with three months' grace.
const needStaleMonths = 15

// addMonths returns d plus n months, on the last day of the month when
// the day does not exist there (30 November + 15 months is 28 or 29 February).
func addMonths(d claims.Date, n int) claims.Date {
	first := time.Date(d.Year(), d.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return claims.NewDate(first.Year(), first.Month(), min(d.Day(), last))
}

// IsStale reports whether a need recorded at an appraisal on appraisal is,
// on today, older than 15 months from it.
func IsStale(appraisal, today claims.Date) bool {
	return today.After(addMonths(appraisal, needStaleMonths))
}

// checkCategory refuses a category the fund does not pay for, with the
// reason, and an unknown one.
func checkCategory(vs *claims.Violations, field string, c Category) {
	if why, refused := refusals[c]; refused {
		vs.Add(field, "NOT_FUNDABLE", "%s", why)
		return
	}
	if !slices.Contains(fundable, c) {
		vs.Add(field, "CATEGORY", "say what the request pays for: a course, conference, e-learning or qualification")
	}
}

// checkText adds a violation unless s is between lo and hi bytes long.
func checkText(vs *claims.Violations, field, s string, lo, hi int) {
	if len(s) < lo || len(s) > hi {
		if lo > 0 && s == "" {
			vs.Add(field, "REQUIRED", "is required")
			return
		}
		vs.Add(field, "LENGTH", "must be %d to %d characters", lo, hi)
	}
}

// checkDates requires both dates, in order.
func checkDates(vs *claims.Violations, prefix string, start, end claims.Date) {
	switch {
	case start.IsZero():
		vs.Add(prefix+".start_date", "REQUIRED", "the start date is required")
	case end.IsZero():
		vs.Add(prefix+".end_date", "REQUIRED", "the end date is required")
	case end.Before(start):
		vs.Add(prefix+".end_date", "DATE_ORDER", "the end date must not be before the start date")
	}
}

// checkWithinScheme refuses dates past the scheme's end (there is no
// carry-over) and a start outside the scheme's years.
func checkWithinScheme(vs *claims.Violations, prefix string, s Scheme, start, end claims.Date) {
	if !end.IsZero() && end.After(s.EndDate) {
		vs.Add(prefix+".end_date", "AFTER_SCHEME_END", "%s ends on %s: nothing may be dated after it", s.Name(), s.EndDate)
	}
	if !start.IsZero() && !s.Covers(claims.FinancialYearOf(start)) {
		vs.Add(prefix+".start_date", "OUTSIDE_SCHEME", "%s runs from %s to %s", s.Name(), s.FirstYear, s.LastYear())
	}
}

// action is what a hub officer does to a request.
type action string

const (
	actApprove  action = "approve"
	actPartFund action = "part_fund"
	actReject   action = "reject"
	actPay      action = "record_payment"
	actPlace    action = "allocate_place"
)

// transitions is the request state machine, in one place: state × action
// → the next state. Anything missing is FAILED_PRECONDITION.
var transitions = map[State]map[action]State{
	StateSubmitted: {actApprove: StateApproved, actPartFund: StatePartFunded, actReject: StateRejected,
		actPlace: StateSubmitted},
	StateApproved:   {actPay: StatePaid},
	StatePartFunded: {actPay: StatePaid},
}

// moveTo returns the state a request in s moves to by a, or an error.
func moveTo(r Request, a action) (State, error) {
	to, ok := transitions[r.State][a]
	if !ok {
		return "", claims.FailedPrecondition(r.Name(), "INVALID_STATE_TRANSITION",
			"a "+string(r.State)+" request cannot be given "+string(a))
	}
	return to, nil
}

// checkOptionalID checks an id a caller chose; empty lets the store choose.
func checkOptionalID(vs *claims.Violations, field, id string) {
	if id != "" && !ValidID(id) {
		vs.Add(field, "ID_FORMAT", "must be lower-case letters, digits and hyphens (up to 63)")
	}
}
