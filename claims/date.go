package claims

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// Date is a civil calendar day with no time zone. The zero Date means "not
// set" (an open-ended end date, for example).
type Date struct {
	t time.Time // midnight UTC; zero when unset
}

// NewDate returns the given day; it normalises like time.Date.
func NewDate(year int, month time.Month, day int) Date {
	return Date{t: time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}

// DateOf returns the calendar day of t in its own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return NewDate(y, m, d)
}

// firstYear is the earliest year ParseDate accepts. PostgreSQL has no year
// 0000, which Go would parse, and nothing in ARRS is dated before the NHS.
const firstYear = 1900

// ParseDate reads YYYY-MM-DD, from 1900 on. The empty string is the zero
// Date.
func ParseDate(s string) (Date, error) {
	if s == "" {
		return Date{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date of the form YYYY-MM-DD", s)
	}
	if t.Year() < firstYear {
		return Date{}, fmt.Errorf("%q is before %d", s, firstYear)
	}
	return Date{t: t}, nil
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d.t.IsZero() }

// String returns YYYY-MM-DD, or "" when unset.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// After reports whether d is strictly after e.
func (d Date) After(e Date) bool { return d.t.After(e.t) }

// AddDays returns the day n days after d.
//
// A Date is midnight UTC, which has no daylight saving: n days later is
// exactly n × 24 hours later. Adding the duration is much cheaper than
// AddDate's calendar arithmetic, and a line's cap steps through its month a
// day at a time.
func (d Date) AddDays(n int) Date { return Date{t: d.t.Add(time.Duration(n) * 24 * time.Hour)} }

// Year, Month and Day return the parts of the date.
func (d Date) Year() int         { return d.t.Year() }
func (d Date) Month() time.Month { return d.t.Month() }
func (d Date) Day() int          { return d.t.Day() }

// DaysUntil returns the number of days from d to e (negative if e is earlier).
func (d Date) DaysUntil(e Date) int {
	return int(e.t.Sub(d.t).Hours() / 24)
}

// Scan reads a PostgreSQL date.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
	case time.Time:
		*d = DateOf(v)
	default:
		return fmt.Errorf("cannot scan %T into Date", src)
	}
	return nil
}

// Value writes a PostgreSQL date; the zero Date is NULL.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// MarshalJSON writes "YYYY-MM-DD" (null when unset), as the audit trail
// records it.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("date %s is not a JSON string", b)
	}
	v, err := ParseDate(string(b[1 : len(b)-1]))
	*d = v
	return err
}
