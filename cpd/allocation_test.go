package cpd

import (
	"slices"
	"testing"

	"arrs.nhs.uk/arrs/claims"
)

func TestAllocationsAcrossSchemeYears(t *testing.T) {
	y2020, _ := claims.ParseFinancialYear("2020-21")
	y2023, _ := claims.ParseFinancialYear("2023-24")
	for _, tc := range []struct {
		rule      string
		scheme    Scheme
		headcount int
		want      []int64
	}{
		// £1,000 a head over 2020/21–2022/23: 7 × 100,000p = 700,000p;
		// 700,000 / 3 = 233,333 r 1, the penny to the first year.
		{"three-year scheme: the total split, remainder pence to the earliest years",
			Scheme{ID: "s", FirstYear: y2020, Years: 3, Basis: OverScheme, AmountPerHeadPence: 100000}, 7,
			[]int64{233334, 233333, 233333}},
		// 8 × 100,000p = 800,000p = 266,666 r 2: a penny each to the first two.
		{"three-year scheme: two remainder pence go one each",
			Scheme{ID: "s", FirstYear: y2020, Years: 3, Basis: OverScheme, AmountPerHeadPence: 100000}, 8,
			[]int64{266667, 266667, 266666}},
		{"three-year scheme: an exact split has no remainder",
			Scheme{ID: "s", FirstYear: y2020, Years: 3, Basis: OverScheme, AmountPerHeadPence: 100000}, 3,
			[]int64{100000, 100000, 100000}},
		// 2023/24: £333 a head, 12 heads = 399,600p.
		{"single-year allocation is headcount × amount",
			Scheme{ID: "s", FirstYear: y2023, Years: 1, Basis: PerYear, AmountPerHeadPence: 33300}, 12,
			[]int64{399600}},
		{"per-year amounts repeat every year",
			Scheme{ID: "s", FirstYear: y2020, Years: 2, Basis: PerYear, AmountPerHeadPence: 33300}, 2,
			[]int64{66600, 66600}},
		{"no eligible staff, no allocation",
			Scheme{ID: "s", FirstYear: y2020, Years: 3, Basis: OverScheme, AmountPerHeadPence: 100000}, 0,
			[]int64{0, 0, 0}},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			got := tc.scheme.Allocations(tc.headcount)
			var amounts []int64
			var sum int64
			for i, a := range got {
				amounts = append(amounts, a.AmountPence)
				sum += a.AmountPence
				if a.Year != tc.scheme.YearOf(i) {
					t.Errorf("year %d is %s, want %s", i, a.Year, tc.scheme.YearOf(i))
				}
			}
			if !slices.Equal(amounts, tc.want) {
				t.Errorf("allocations = %v, want %v", amounts, tc.want)
			}
			if tc.scheme.Basis == OverScheme && sum != int64(tc.headcount)*tc.scheme.AmountPerHeadPence {
				t.Errorf("years sum to %d, want the scheme total %d", sum, int64(tc.headcount)*tc.scheme.AmountPerHeadPence)
			}
		})
	}
}

func TestANeedOlderThanFifteenMonthsIsFlagged(t *testing.T) {
	d := func(s string) claims.Date {
		v, err := claims.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		appraisal, today string
		stale            bool
	}{
		{"2025-01-10", "2026-04-10", false}, // exactly 15 months
		{"2025-01-10", "2026-04-11", true},
		{"2025-11-30", "2027-02-28", false}, // 30 Nov + 15 months is 28 Feb
		{"2025-11-30", "2027-03-01", true},
		{"2026-06-01", "2026-12-06", false},
	} {
		if got := IsStale(d(tc.appraisal), d(tc.today)); got != tc.stale {
			t.Errorf("appraisal %s on %s: stale = %v, want %v", tc.appraisal, tc.today, got, tc.stale)
		}
	}
}

// Every pair of state and action is either in the table or refused.
func TestTheRequestStateMachine(t *testing.T) {
	states := []State{StateSubmitted, StateApproved, StatePartFunded, StateRejected, StatePaid}
	actions := []action{actApprove, actPartFund, actReject, actPay, actPlace}
	allowed := map[State][]action{
		StateSubmitted:  {actApprove, actPartFund, actReject, actPlace},
		StateApproved:   {actPay},
		StatePartFunded: {actPay},
	}
	for _, s := range states {
		for _, a := range actions {
			_, err := moveTo(Request{State: s, ODSCode: "K81001", ID: "x"}, a)
			if want := slices.Contains(allowed[s], a); (err == nil) != want {
				t.Errorf("%s × %s: err = %v, want allowed %v", s, a, err, want)
			}
		}
	}
}
