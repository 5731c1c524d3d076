package claims_test

import "testing"

// AddDays steps by 24 hours, which is only right because a Date is midnight
// UTC: these are the calendar's edges, where a wrong step would show.
func TestAddDaysCrossesMonthsYearsAndLeapDays(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2025-03-31", 1, "2025-04-01"},
		{"2025-04-01", -1, "2025-03-31"},
		{"2025-12-31", 1, "2026-01-01"},
		{"2028-02-28", 1, "2028-02-29"},
		{"2028-02-29", 1, "2028-03-01"},
		{"2027-02-28", 1, "2027-03-01"},
		{"2025-04-01", 365, "2026-04-01"},
		{"2027-04-01", 366, "2028-04-01"}, // 2027-28 has 29 February
		{"2026-03-29", 1, "2026-03-30"},   // British Summer Time begins: no effect on a civil date
		{"2026-10-25", 1, "2026-10-26"},
	}
	for _, tt := range tests {
		if got := day(t, tt.from).AddDays(tt.n); got != day(t, tt.want) {
			t.Errorf("%s + %d days = %s, want %s", tt.from, tt.n, got, tt.want)
		}
	}
}
