package claims

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The worked examples below use the published maximums (per year, 1.0 WTE,
// including on-costs, in pence) from the domain reference. A cap is
//
//	round half up ( Σ (annual maximum × days) × WTE ÷ days in the FY )
//
// with one rounding at the end. FY 2024-25 and FY 2025-26 have 365 days;
// FY 2023-24 (1 Apr 2023 – 31 Mar 2024) holds 29 Feb 2024 and has 366.

func day(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func month(t *testing.T, s string) Month {
	t.Helper()
	m, err := ParseMonth(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func pence(v int64) *int64 { return &v }

func rate(t *testing.T, role, effective string, national int64, outer, inner *int64) Rate {
	return Rate{RoleID: role, EffectiveDate: day(t, effective), NationalPence: national,
		OuterLondonPence: outer, InnerLondonPence: inner}
}

// catalogue is the rates the tests use. The pharmacy technician's 16 October
// 2024 uplift is illustrative (the real one took effect on 1 October): it
// gives a pay award that falls mid-month.
func catalogue(t *testing.T) []Rate {
	return []Rate{
		// Deliberately out of date order: ComputeCap must not rely on it.
		rate(t, "clinical-pharmacist", "2025-04-01", 6697200, pence(7439200), pence(7754500)),
		rate(t, "clinical-pharmacist", "2020-04-01", 5567000, nil, nil),
		rate(t, "clinical-pharmacist", "2022-04-01", 5731800, nil, nil),
		rate(t, "clinical-pharmacist", "2022-10-01", 5931200, nil, pence(6876800)),
		rate(t, "clinical-pharmacist", "2023-07-01", 6234000, nil, nil),
		rate(t, "clinical-pharmacist", "2024-10-01", 6583800, pence(7318900), pence(7631300)),
		rate(t, "advanced-practitioner", "2024-10-01", 7214100, pence(7949200), pence(8261600)),
		rate(t, "advanced-practitioner", "2025-04-01", 7333400, nil, nil),
		rate(t, "pharmacy-technician", "2023-07-01", 4015900, nil, nil),
		rate(t, "pharmacy-technician", "2024-10-16", 4243700, nil, nil),
	}
}

func role(t *testing.T, id string, from string) Role {
	return Role{ID: id, Register: RegisterGPhC, ReimbursableFrom: day(t, from)}
}

func filledPost(t *testing.T, roleID, start, end string, wte Decimal) Post {
	p := Post{PCNCode: "U12345", ID: "post-1", RoleID: roleID, State: PostFilled, StaffName: "A Person",
		RegistrationNumber: "2081234", WTE: wte, StartDate: day(t, start)}
	if end != "" {
		p.EndDate = day(t, end)
	}
	return p
}

func TestComputeCap(t *testing.T) {
	pharmacist := role(t, "clinical-pharmacist", "2019-07-01")
	tests := []struct {
		name       string
		month      string
		post       Post
		role       Role
		zone       WeightingZone
		wte        Decimal
		want       int64
		activeDays int
		daysInYear int
		segments   []CapSegment
	}{
		{
			// April 2025, 30 days, £66,972 = 6697200p from 1 Apr 2025:
			// 6697200 × 30 = 200916000; × 1.0; ÷ 365 = 550454.79… → 550455.
			name: "full month at 1.0 WTE", month: "2025-04", role: pharmacist, zone: ZoneNational, wte: 10000,
			post: filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000),
			want: 550455, activeDays: 30, daysInYear: 365,
			segments: []CapSegment{{From: day(t, "2025-04-01"), To: day(t, "2025-04-30"), Days: 30,
				AnnualMaxPence: 6697200, RateEffective: day(t, "2025-04-01")}},
		},
		{
			// Starts 17 April: days 17–30 are 14 days of 30.
			// 6697200 × 14 = 93760800; × 0.6 = 56256480; ÷ 365 = 154127.34… → 154127.
			name: "starter on the 17th at 0.6 WTE", month: "2025-04", role: pharmacist, zone: ZoneNational, wte: 6000,
			post: filledPost(t, "clinical-pharmacist", "2025-04-17", "", 6000),
			want: 154127, activeDays: 14, daysInYear: 365,
			segments: []CapSegment{{From: day(t, "2025-04-17"), To: day(t, "2025-04-30"), Days: 14,
				AnnualMaxPence: 6697200, RateEffective: day(t, "2025-04-01")}},
		},
		{
			// The 1 Oct 2024 award (£65,838) covers the whole of October;
			// the 1 Jul 2023 rate (£62,340) plays no part.
			// 6583800 × 31 = 204097800; ÷ 365 = 559172.05… → 559172.
			name: "uplift on the 1st: whole month on the new rate", month: "2024-10", role: pharmacist,
			zone: ZoneNational, wte: 10000, post: filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000),
			want: 559172, activeDays: 31, daysInYear: 365,
			segments: []CapSegment{{From: day(t, "2024-10-01"), To: day(t, "2024-10-31"), Days: 31,
				AnnualMaxPence: 6583800, RateEffective: day(t, "2024-10-01")}},
		},
		{
			// Pharmacy technician, uplift on 16 Oct 2024 (illustrative):
			// 1–15 Oct:  4015900 × 15 = 60238500
			// 16–31 Oct: 4243700 × 16 = 67899200
			// Σ = 128137700; × 0.8 = 102510160; ÷ 365 = 280849.75… → 280850.
			name: "uplift mid-month: two segments", month: "2024-10", role: role(t, "pharmacy-technician", "2020-04-01"),
			zone: ZoneNational, wte: 8000, post: filledPost(t, "pharmacy-technician", "2023-01-01", "", 8000),
			want: 280850, activeDays: 31, daysInYear: 365,
			segments: []CapSegment{
				{From: day(t, "2024-10-01"), To: day(t, "2024-10-15"), Days: 15, AnnualMaxPence: 4015900, RateEffective: day(t, "2023-07-01")},
				{From: day(t, "2024-10-16"), To: day(t, "2024-10-31"), Days: 16, AnnualMaxPence: 4243700, RateEffective: day(t, "2024-10-16")},
			},
		},
		{
			// The same month at 0.1 WTE proves there is ONE rounding:
			// 128137700 × 0.1 = 12813770; ÷ 365 = 35106.21… → 35106.
			// Rounding each segment would give 35107:
			// 60238500 × 0.1 ÷ 365 = 16503.69… → 16504, and
			// 67899200 × 0.1 ÷ 365 = 18602.52… → 18603; 16504 + 18603 = 35107.
			name: "segments are summed before the one rounding", month: "2024-10",
			role: role(t, "pharmacy-technician", "2020-04-01"), zone: ZoneNational, wte: 1000,
			post: filledPost(t, "pharmacy-technician", "2023-01-01", "", 1000),
			want: 35106, activeDays: 31, daysInYear: 365,
			segments: []CapSegment{
				{From: day(t, "2024-10-01"), To: day(t, "2024-10-15"), Days: 15, AnnualMaxPence: 4015900, RateEffective: day(t, "2023-07-01")},
				{From: day(t, "2024-10-16"), To: day(t, "2024-10-31"), Days: 16, AnnualMaxPence: 4243700, RateEffective: day(t, "2024-10-16")},
			},
		},
		{
			// February 2024 is in FY 2023-24, which has 366 days.
			// 6234000 × 29 = 180786000; ÷ 366 = 493950.81… → 493951
			// (÷ 365 would wrongly give 495304.10… → 495304).
			name: "leap year: FY 2023-24 has 366 days", month: "2024-02", role: pharmacist, zone: ZoneNational,
			wte: 10000, post: filledPost(t, "clinical-pharmacist", "2023-09-01", "", 10000),
			want: 493951, activeDays: 29, daysInYear: 366,
			segments: []CapSegment{{From: day(t, "2024-02-01"), To: day(t, "2024-02-29"), Days: 29,
				AnnualMaxPence: 6234000, RateEffective: day(t, "2023-07-01")}},
		},
		{
			// Inner London figure £77,545:
			// 7754500 × 30 = 232635000; ÷ 365 = 637356.16… → 637356.
			name: "inner London with a London figure", month: "2025-04", role: pharmacist, zone: ZoneInnerLondon,
			wte: 10000, post: filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000),
			want: 637356, activeDays: 30, daysInYear: 365,
			segments: []CapSegment{{From: day(t, "2025-04-01"), To: day(t, "2025-04-30"), Days: 30,
				AnnualMaxPence: 7754500, RateEffective: day(t, "2025-04-01")}},
		},
		{
			// Outer London figure £74,392:
			// 7439200 × 30 = 223176000; ÷ 365 = 611441.09… → 611441.
			name: "outer London with a London figure", month: "2025-04", role: pharmacist, zone: ZoneOuterLondon,
			wte: 10000, post: filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000),
			want: 611441, activeDays: 30, daysInYear: 365,
			segments: []CapSegment{{From: day(t, "2025-04-01"), To: day(t, "2025-04-30"), Days: 30,
				AnnualMaxPence: 7439200, RateEffective: day(t, "2025-04-01")}},
		},
		{
			// The advanced practitioner's 2025-26 rate has no London figure,
			// so outer London falls back to its national £73,334, not to
			// the superseded 2024 outer London £79,492:
			// 7333400 × 30 = 220002000; ÷ 365 = 602745.20… → 602745.
			name: "outer London without a London figure falls back to national", month: "2025-04",
			role: role(t, "advanced-practitioner", "2021-04-01"), zone: ZoneOuterLondon, wte: 10000,
			post: filledPost(t, "advanced-practitioner", "2024-01-01", "", 10000),
			want: 602745, activeDays: 30, daysInYear: 365,
			segments: []CapSegment{{From: day(t, "2025-04-01"), To: day(t, "2025-04-30"), Days: 30,
				AnnualMaxPence: 7333400, RateEffective: day(t, "2025-04-01")}},
		},
		{
			// Ends 10 April: days 1–10.
			// 6697200 × 10 = 66972000; ÷ 365 = 183484.93… → 183485.
			name: "post ending mid-month", month: "2025-04", role: pharmacist, zone: ZoneNational, wte: 10000,
			post: filledPost(t, "clinical-pharmacist", "2024-01-01", "2025-04-10", 10000),
			want: 183485, activeDays: 10, daysInYear: 365,
			segments: []CapSegment{{From: day(t, "2025-04-01"), To: day(t, "2025-04-10"), Days: 10,
				AnnualMaxPence: 6697200, RateEffective: day(t, "2025-04-01")}},
		},
		{
			// Role reimbursable from 16 April (illustrative): days 16–30 are 15.
			// 6697200 × 15 = 100458000; ÷ 365 = 275227.39… → 275227.
			name: "role reimbursable only from mid-month", month: "2025-04",
			role: role(t, "clinical-pharmacist", "2025-04-16"), zone: ZoneNational, wte: 10000,
			post: filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000),
			want: 275227, activeDays: 15, daysInYear: 365,
			segments: []CapSegment{{From: day(t, "2025-04-16"), To: day(t, "2025-04-30"), Days: 15,
				AnnualMaxPence: 6697200, RateEffective: day(t, "2025-04-01")}},
		},
		{
			// Role reimbursable until 20 April (illustrative): days 1–20.
			// 6697200 × 20 = 133944000; ÷ 365 = 366969.86… → 366970.
			name: "role reimbursable only until mid-month", month: "2025-04",
			role: Role{ID: "clinical-pharmacist", ReimbursableFrom: day(t, "2019-07-01"), ReimbursableTo: day(t, "2025-04-20")},
			zone: ZoneNational, wte: 10000, post: filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000),
			want: 366970, activeDays: 20, daysInYear: 365,
			segments: []CapSegment{{From: day(t, "2025-04-01"), To: day(t, "2025-04-20"), Days: 20,
				AnnualMaxPence: 6697200, RateEffective: day(t, "2025-04-01")}},
		},
		{
			// Starts 17 April, ends 26 April, at 0.6 WTE: days 17–26 are 10.
			// 6697200 × 10 = 66972000; × 0.6 = 40183200; ÷ 365 = 110090.95… → 110091.
			name: "starts and ends in the month", month: "2025-04", role: pharmacist, zone: ZoneNational, wte: 6000,
			post: filledPost(t, "clinical-pharmacist", "2025-04-17", "2025-04-26", 6000),
			want: 110091, activeDays: 10, daysInYear: 365,
			segments: []CapSegment{{From: day(t, "2025-04-17"), To: day(t, "2025-04-26"), Days: 10,
				AnnualMaxPence: 6697200, RateEffective: day(t, "2025-04-01")}},
		},
		{
			// Not in post at all in April: nothing to cap, no rate needed.
			name: "no active day", month: "2025-04", role: pharmacist, zone: ZoneNational, wte: 10000,
			post: filledPost(t, "clinical-pharmacist", "2025-05-01", "", 10000),
			want: 0, activeDays: 0, daysInYear: 365,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ComputeCap(month(t, tt.month), tt.post, tt.role, catalogue(t), tt.zone, tt.wte)
			if err != nil {
				t.Fatal(err)
			}
			want := LineCap{Pence: tt.want, ActiveDays: tt.activeDays, DaysInYear: tt.daysInYear, WTE: tt.wte, Segments: tt.segments}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ComputeCap = %+v\nwant         %+v", got, want)
			}
		})
	}
}

// A cap exactly half a penny over rounds up. An annual maximum of 3650365p
// for one day at 0.5 WTE: 3650365 × 1 × 0.5 ÷ 365 = 1825182.5 ÷ 365 = 5000.5 → 5001.
func TestComputeCapRoundsHalfUp(t *testing.T) {
	rates := []Rate{rate(t, "r", "2025-04-01", 3650365, nil, nil)}
	post := filledPost(t, "r", "2025-04-30", "", 5000)
	got, err := ComputeCap(month(t, "2025-04"), post, role(t, "r", "2025-04-01"), rates, ZoneNational, 5000)
	if err != nil {
		t.Fatal(err)
	}
	if got.Pence != 5001 {
		t.Errorf("cap = %d, want 5001", got.Pence)
	}
}

func TestComputeCapErrors(t *testing.T) {
	onlyFrom2025 := []Rate{rate(t, "clinical-pharmacist", "2025-04-01", 6697200, nil, nil)}
	tests := []struct {
		name    string
		month   string
		post    Post
		role    Role
		rates   []Rate
		wte     Decimal
		kind    Kind
		reason  string
		mention string
	}{
		{
			// In post all of March 2025 but the only rate starts 1 April.
			name: "no rate in force names the first such day", month: "2025-03",
			post: filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000), role: role(t, "clinical-pharmacist", "2019-07-01"),
			rates: onlyFrom2025, wte: 10000, kind: KindFailedPrecondition, reason: "RATE_NOT_IN_FORCE", mention: "2025-03-01",
		},
		{
			// Reimbursable from 20 March; the first day needing a rate is the 20th.
			name: "no rate in force after a mid-month start", month: "2025-03",
			post: filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000), role: role(t, "clinical-pharmacist", "2025-03-20"),
			rates: onlyFrom2025, wte: 10000, kind: KindFailedPrecondition, reason: "RATE_NOT_IN_FORCE", mention: "2025-03-20",
		},
		{
			// Another role's rate does not stand in for the missing one.
			name: "other roles' rates are ignored", month: "2025-04",
			post: filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000), role: role(t, "clinical-pharmacist", "2019-07-01"),
			rates: []Rate{rate(t, "advanced-practitioner", "2025-04-01", 7333400, nil, nil)}, wte: 10000,
			kind: KindFailedPrecondition, reason: "RATE_NOT_IN_FORCE", mention: "2025-04-01",
		},
		{
			name: "two rates on one date", month: "2025-04",
			post: filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000), role: role(t, "clinical-pharmacist", "2019-07-01"),
			rates: append(onlyFrom2025, rate(t, "clinical-pharmacist", "2025-04-01", 1, nil, nil)), wte: 10000,
			kind: KindFailedPrecondition, reason: "RATE_DUPLICATE", mention: "roles/clinical-pharmacist/rates/2025-04-01",
		},
		{
			name: "maximum outside the catalogue's bounds", month: "2025-04",
			post: filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000), role: role(t, "clinical-pharmacist", "2019-07-01"),
			rates: []Rate{rate(t, "clinical-pharmacist", "2025-04-01", 100_000_001, nil, nil)}, wte: 10000,
			kind: KindFailedPrecondition, reason: "RATE_OUT_OF_RANGE", mention: "100000001",
		},
		{
			name: "zero WTE", month: "2025-04",
			post: filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000), role: role(t, "clinical-pharmacist", "2019-07-01"),
			rates: onlyFrom2025, wte: 0, kind: KindInvalid, reason: "INVALID_ARGUMENT", mention: "wte",
		},
		{
			name: "WTE over 1", month: "2025-04",
			post: filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000), role: role(t, "clinical-pharmacist", "2019-07-01"),
			rates: onlyFrom2025, wte: 10001, kind: KindInvalid, reason: "INVALID_ARGUMENT", mention: "1.0001",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ComputeCap(month(t, tt.month), tt.post, tt.role, tt.rates, ZoneNational, tt.wte)
			e, ok := AsError(err)
			if !ok || e.Kind != tt.kind || e.Reason != tt.reason || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("ComputeCap error = %v (%+v); want kind %d, reason %s, mentioning %q", err, e, tt.kind, tt.reason, tt.mention)
			}
		})
	}
}

func TestCapSegmentJSONRoundTrips(t *testing.T) {
	in := []CapSegment{{From: day(t, "2024-10-16"), To: day(t, "2024-10-31"), Days: 16,
		AnnualMaxPence: 4243700, RateEffective: day(t, "2024-10-16")}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `[{"from_date":"2024-10-16","to_date":"2024-10-31","days":16,"annual_max_pence":4243700,"rate_effective":"2024-10-16"}]`
	if string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	var out []CapSegment
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}
	if err := json.Unmarshal([]byte(`[{"from_date":"16/10/2024"}]`), &out); err == nil {
		t.Error("a malformed date was accepted")
	}
}

func TestReimbursable(t *testing.T) {
	tests := []struct {
		name        string
		actual, cap int64
		want        int64
	}{
		// Cap 550455p (a full April at 1.0 WTE, above); paid £5,000.00.
		{"actual under the cap pays actual", 500000, 550455, 500000},
		// Paid £6,000.00 > cap: the scheme pays no more than the cap.
		{"actual over the cap pays the cap", 600000, 550455, 550455},
		{"actual equal to the cap", 550455, 550455, 550455},
		{"nothing paid", 0, 550455, 0},
	}
	for _, tt := range tests {
		if got := Reimbursable(tt.actual, tt.cap); got != tt.want {
			t.Errorf("%s: Reimbursable(%d, %d) = %d, want %d", tt.name, tt.actual, tt.cap, got, tt.want)
		}
	}
}

func TestCostsActualPence(t *testing.T) {
	tests := []struct {
		name  string
		costs Costs
		want  int64
	}{
		// 400000 + 45000 + 57520 = 502520.
		{"salary and on-costs", Costs{GrossSalary: 400000, EmployerNI: 45000, EmployerPension: 57520}, 502520},
		// 400000 + 45000 + 57520 + 20000 overtime − 100000 sick-pay reduction = 422520.
		{"with overtime and an absence adjustment",
			Costs{GrossSalary: 400000, EmployerNI: 45000, EmployerPension: 57520, Overtime: 20000, AbsenceAdjustment: 100000}, 422520},
		// 1000 − 5000 would be −4000: never below 0.
		{"never below 0", Costs{GrossSalary: 1000, AbsenceAdjustment: 5000}, 0},
		{"nothing", Costs{}, 0},
	}
	for _, tt := range tests {
		if got := tt.costs.ActualPence(); got != tt.want {
			t.Errorf("%s: ActualPence = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestCostsValidate(t *testing.T) {
	type violation struct{ field, rule string }
	tests := []struct {
		name  string
		costs Costs
		want  []violation
	}{
		{"valid", Costs{GrossSalary: 400000, EmployerNI: 45000, EmployerPension: 57520, Overtime: 20000, AbsenceAdjustment: 100000}, nil},
		{"at the limits", Costs{GrossSalary: 5_000_000, EmployerNI: 5_000_000, EmployerPension: 5_000_000,
			Overtime: 5_000_000, AbsenceAdjustment: 5_000_000}, nil},
		{"negative components", Costs{GrossSalary: -1, EmployerNI: -2, EmployerPension: -3, Overtime: -4, AbsenceAdjustment: -5}, []violation{
			{"line.gross_salary_pence", "NOT_NEGATIVE"},
			{"line.employer_ni_pence", "NOT_NEGATIVE"},
			{"line.employer_pension_pence", "NOT_NEGATIVE"},
			{"line.overtime_pence", "NOT_NEGATIVE"},
			{"line.absence_adjustment_pence", "NOT_NEGATIVE"},
		}},
		// £50,000.01 in a month for one person is a typing error.
		{"absurd amounts", Costs{GrossSalary: 5_000_001, EmployerNI: 100_000_000, EmployerPension: 5_000_001,
			Overtime: 5_000_001, AbsenceAdjustment: 0}, []violation{
			{"line.gross_salary_pence", "AMOUNT_TOO_LARGE"},
			{"line.employer_ni_pence", "AMOUNT_TOO_LARGE"},
			{"line.employer_pension_pence", "AMOUNT_TOO_LARGE"},
			{"line.overtime_pence", "AMOUNT_TOO_LARGE"},
		}},
		{"absence adjustment over gross", Costs{GrossSalary: 100000, AbsenceAdjustment: 100001}, []violation{
			{"line.absence_adjustment_pence", "ABSENCE_EXCEEDS_GROSS"},
		}},
		{"absence adjustment equal to gross (no pay at all)", Costs{GrossSalary: 100000, AbsenceAdjustment: 100000}, nil},
		// A bad gross is reported once, not again as less than the absence.
		{"bad gross is not compared", Costs{GrossSalary: -1, AbsenceAdjustment: 10}, []violation{
			{"line.gross_salary_pence", "NOT_NEGATIVE"},
		}},
	}
	for _, tt := range tests {
		var vs Violations
		tt.costs.Validate(&vs, "line.")
		var got []violation
		for _, v := range vs {
			got = append(got, violation{v.Field, v.Rule})
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: violations %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestEligibility(t *testing.T) {
	pharmacist := role(t, "clinical-pharmacist", "2019-07-01")
	ot := Role{ID: "occupational-therapist", Register: RegisterHCPC, RegistrationPrefix: "OT", ReimbursableFrom: day(t, "2020-04-01")}
	coordinator := Role{ID: "care-coordinator", Register: RegisterNone, ReimbursableFrom: day(t, "2020-04-01")}
	filled := filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000)
	tests := []struct {
		name   string
		post   Post
		role   Role
		ok     bool
		reason string
	}{
		{"filled", filled, pharmacist, true, ""},
		{"ended mid-month: eligible for its days",
			with(filled, func(p *Post) { p.State, p.EndDate = PostEnded, day(t, "2025-04-10") }), pharmacist, true, ""},
		{"unregistered role needs no number",
			with(filled, func(p *Post) { p.RoleID, p.RegistrationNumber = "care-coordinator", "" }), coordinator, true, ""},
		{"baseline, even when filled",
			with(filled, func(p *Post) { p.Baseline = true }), pharmacist, false, ExcludedBaseline},
		{"planned", with(filled, func(p *Post) { p.State, p.StaffName, p.RegistrationNumber = PostPlanned, "", "" }),
			pharmacist, false, ExcludedNotFilled},
		{"recruiting", with(filled, func(p *Post) { p.State, p.StaffName, p.RegistrationNumber = PostRecruiting, "", "" }),
			pharmacist, false, ExcludedNotFilled},
		{"ended without ever being filled", with(filled, func(p *Post) {
			p.State, p.StaffName, p.RegistrationNumber, p.EndDate = PostEnded, "", "", day(t, "2025-06-30")
		}), pharmacist, false, ExcludedNotFilled},
		{"starts after the month",
			with(filled, func(p *Post) { p.StartDate = day(t, "2025-05-01") }), pharmacist, false, ExcludedNotInPost},
		{"ended before the month", with(filled, func(p *Post) { p.State, p.EndDate = PostEnded, day(t, "2025-03-31") }),
			pharmacist, false, ExcludedNotInPost},
		{"role not yet reimbursable",
			filled, role(t, "clinical-pharmacist", "2025-05-01"), false, ExcludedRoleNotReimbursable},
		// In post 1–10 April; the role is reimbursable from the 16th only.
		{"role reimbursable only after the post ended",
			with(filled, func(p *Post) { p.State, p.EndDate = PostEnded, day(t, "2025-04-10") }),
			role(t, "clinical-pharmacist", "2025-04-16"), false, ExcludedRoleNotReimbursable},
		{"registration of the wrong profession",
			with(filled, func(p *Post) { p.RoleID, p.RegistrationNumber = "occupational-therapist", "PH12345" }),
			ot, false, ExcludedRegistrationInvalid},
		{"registration missing",
			with(filled, func(p *Post) { p.RegistrationNumber = "" }), pharmacist, false, ExcludedRegistrationInvalid},
		{"registration valid for the register",
			with(filled, func(p *Post) { p.RoleID, p.RegistrationNumber = "occupational-therapist", "OT12345" }), ot, true, ""},
	}
	for _, tt := range tests {
		ok, reason := Eligibility(month(t, "2025-04"), tt.post, tt.role)
		if ok != tt.ok || reason != tt.reason {
			t.Errorf("%s: Eligibility = %v, %q; want %v, %q", tt.name, ok, reason, tt.ok, tt.reason)
		}
	}
}

func TestForecastCaps(t *testing.T) {
	pharmacist := role(t, "clinical-pharmacist", "2019-07-01")
	type monthly = map[string]int64
	tests := []struct {
		name     string
		from, to string
		post     Post
		rates    []Rate
		want     monthly
		missing  []string
	}{
		{
			// £62,340 (6234000p) throughout; February and March 2024 are in
			// FY 2023-24 (366 days), April and May 2024 in FY 2024-25 (365):
			// Feb: 6234000 × 29 = 180786000 ÷ 366 = 493950.81… → 493951
			// Mar: 6234000 × 31 = 193254000 ÷ 366 = 528016.39… → 528016
			// Apr: 6234000 × 30 = 187020000 ÷ 365 = 512383.56… → 512384
			// May: 6234000 × 31 = 193254000 ÷ 365 = 529463.01… → 529463
			// (March and May have the same days and rate but differ by the year's length.)
			name: "across a financial year boundary", from: "2024-02", to: "2024-05",
			post: filledPost(t, "clinical-pharmacist", "2023-09-01", "", 10000), rates: catalogue(t),
			want: monthly{"2024-02": 493951, "2024-03": 528016, "2024-04": 512384, "2024-05": 529463},
		},
		{
			// A planned 0.5 WTE post from 15 October 2025 at £66,972
			// (6697200p), FY 2025-26 (365 days); nothing before October:
			// Oct: 17 days (15–31): 6697200 × 17 = 113852400 × 0.5 = 56926200 ÷ 365 = 155962.19… → 155962
			// Nov: 30 days: 6697200 × 30 = 200916000 × 0.5 = 100458000 ÷ 365 = 275227.39… → 275227
			// Dec, Jan, Mar: 31 days: 207613200 × 0.5 = 103806600 ÷ 365 = 284401.64… → 284402
			// Feb 2026: 28 days: 187521600 × 0.5 = 93760800 ÷ 365 = 256878.90… → 256879
			name: "planned post starting mid-year", from: "2025-04", to: "2026-03",
			post:  Post{ID: "plan-1", RoleID: "clinical-pharmacist", State: PostPlanned, WTE: 5000, StartDate: day(t, "2025-10-15")},
			rates: catalogue(t),
			want: monthly{"2025-04": 0, "2025-05": 0, "2025-06": 0, "2025-07": 0, "2025-08": 0, "2025-09": 0,
				"2025-10": 155962, "2025-11": 275227, "2025-12": 284402, "2026-01": 284402, "2026-02": 256879, "2026-03": 284402},
		},
		{
			// Only the 2025-26 rate is loaded: February and March 2025 count 0
			// and are reported.
			// Apr: 6697200 × 30 = 200916000 ÷ 365 = 550454.79… → 550455
			// May: 6697200 × 31 = 207613200 ÷ 365 = 568803.28… → 568803
			name: "months without a rate count 0 and are reported", from: "2025-02", to: "2025-05",
			post:  filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000),
			rates: []Rate{rate(t, "clinical-pharmacist", "2025-04-01", 6697200, nil, nil)},
			want:  monthly{"2025-02": 0, "2025-03": 0, "2025-04": 550455, "2025-05": 568803}, missing: []string{"2025-02", "2025-03"},
		},
		{
			name: "baseline posts are skipped", from: "2025-04", to: "2025-06",
			post:  with(filledPost(t, "clinical-pharmacist", "2019-01-01", "", 10000), func(p *Post) { p.Baseline = true }),
			rates: catalogue(t), want: monthly{"2025-04": 0, "2025-05": 0, "2025-06": 0},
		},
		{
			name: "an empty range", from: "2025-06", to: "2025-04",
			post: filledPost(t, "clinical-pharmacist", "2024-01-01", "", 10000), rates: catalogue(t), want: monthly{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			perMonth, missing := ForecastCaps(month(t, tt.from), month(t, tt.to), tt.post, pharmacist, tt.rates, ZoneNational)
			got := monthly{}
			for m, p := range perMonth {
				got[m.String()] = p
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("perMonth = %v, want %v", got, tt.want)
			}
			var gotMissing []string
			for _, m := range missing {
				gotMissing = append(gotMissing, m.String())
			}
			if !slices.Equal(gotMissing, tt.missing) {
				t.Errorf("missingRate = %v, want %v", gotMissing, tt.missing)
			}
		})
	}
}

// with returns a copy of p changed by change.
func with(p Post, change func(*Post)) Post { change(&p); return p }

func TestParseMonth(t *testing.T) {
	good := map[string]Month{
		"2025-04": {2025, time.April},
		"2000-01": {2000, time.January},
		"2024-12": {2024, time.December},
	}
	for s, want := range good {
		got, err := ParseMonth(s)
		if err != nil || got != want || got.String() != s {
			t.Errorf("ParseMonth(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"2025-4", "2025-13", "2025-00", "25-04", "2025-04-01", "1999-12", "", " 2025-04",
		"2025-04 ", "2025/04", "+025-04", "２０２５-04", "April 2025"} {
		if m, err := ParseMonth(s); err == nil {
			t.Errorf("ParseMonth(%q) = %v; want an error", s, m)
		}
	}
}

func TestMonthCalendar(t *testing.T) {
	tests := []struct {
		month       string
		first, last string
		days        int
		next        string
		fy          string
	}{
		{"2025-04", "2025-04-01", "2025-04-30", 30, "2025-05", "2025-26"},
		{"2025-03", "2025-03-01", "2025-03-31", 31, "2025-04", "2024-25"},
		{"2024-02", "2024-02-01", "2024-02-29", 29, "2024-03", "2023-24"},
		{"2025-02", "2025-02-01", "2025-02-28", 28, "2025-03", "2024-25"},
		{"2000-02", "2000-02-01", "2000-02-29", 29, "2000-03", "1999-00"},
		{"2025-12", "2025-12-01", "2025-12-31", 31, "2026-01", "2025-26"},
		{"2026-01", "2026-01-01", "2026-01-31", 31, "2026-02", "2025-26"},
	}
	for _, tt := range tests {
		m := month(t, tt.month)
		if got := m.First().String(); got != tt.first {
			t.Errorf("%s First = %s, want %s", m, got, tt.first)
		}
		if got := m.Last().String(); got != tt.last {
			t.Errorf("%s Last = %s, want %s", m, got, tt.last)
		}
		if got := m.Days(); got != tt.days {
			t.Errorf("%s Days = %d, want %d", m, got, tt.days)
		}
		if got := m.Next().String(); got != tt.next {
			t.Errorf("%s Next = %s, want %s", m, got, tt.next)
		}
		if got := m.FinancialYear().String(); got != tt.fy {
			t.Errorf("%s FinancialYear = %s, want %s", m, got, tt.fy)
		}
		if !m.Before(m.Next()) || m.Next().Before(m) || m.Before(m) {
			t.Errorf("%s Before is not a strict order with Next", m)
		}
		for _, d := range []Date{m.First(), m.Last()} {
			if MonthOf(d) != m {
				t.Errorf("MonthOf(%s) = %s, want %s", d, MonthOf(d), m)
			}
		}
	}
	if !month(t, "2024-12").Before(month(t, "2025-01")) || month(t, "2025-01").Before(month(t, "2024-12")) {
		t.Error("Before across a year is wrong")
	}
}

func TestMonthStorageAndJSON(t *testing.T) {
	m := month(t, "2025-04")
	v, err := m.Value()
	if err != nil || v != "2025-04-01" {
		t.Errorf("Value = %v, %v; want 2025-04-01", v, err)
	}
	var got Month
	if err := got.Scan(time.Date(2025, time.April, 1, 0, 0, 0, 0, time.UTC)); err != nil || got != m {
		t.Errorf("Scan(1 April 2025) = %v, %v; want %v", got, err, m)
	}
	if err := got.Scan(time.Date(2025, time.April, 2, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("Scan accepted a date that is not the first of a month")
	}
	if err := got.Scan("2025-04-01"); err == nil {
		t.Error("Scan accepted a string")
	}
	if err := got.Scan(nil); err != nil || !got.IsZero() {
		t.Errorf("Scan(nil) = %v, %v; want the zero Month", got, err)
	}
	if v, err := (Month{}).Value(); v != nil || err != nil {
		t.Errorf("zero Month Value = %v, %v; want NULL", v, err)
	}
	b, err := json.Marshal(struct {
		M Month `json:"month"`
		Z Month `json:"zero"`
	}{M: m})
	if err != nil || string(b) != `{"month":"2025-04","zero":null}` {
		t.Errorf("json = %s, %v", b, err)
	}
}
