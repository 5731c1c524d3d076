package claims

import (
	"testing"
	"time"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in   string
		want Decimal
		ok   bool
	}{
		{"0.6", 6000, true},
		{"1", 10000, true},
		{"26.631", 266310, true},
		{"52345.6789", 523456789, true},
		{"-0.5", -5000, true},
		{"0.00001", 0, false}, // five places: not exact at our scale
		{"1e3", 0, false},
		{"+1", 0, false},
		{".5", 0, false},
		{"5.", 0, false},
		{"", 0, false},
		{"1,000", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDecimal(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDecimal(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestDecimalStringRoundTrips(t *testing.T) {
	for _, s := range []string{"0.6", "1", "26.631", "0.0001", "-2.5", "0", "52345.67"} {
		d, err := ParseDecimal(s)
		if err != nil {
			t.Fatal(err)
		}
		if d.String() != s {
			t.Errorf("ParseDecimal(%q).String() = %q", s, d.String())
		}
	}
}

func TestEntitlementRoundsHalfUpOnceToThePenny(t *testing.T) {
	tests := []struct {
		name      string
		rate, pop string
		wantPence int64
	}{
		// £26.631 × 52,345.67 = £1,394,017.53777 → 139,401,753.777p → 139,401,754p.
		{"2025-26 demo PCN", "26.631", "52345.67", 139401754},
		// £22.894 × 10,000 = £228,940 exactly.
		{"exact", "22.894", "10000", 22894000},
		// £0.0001 × 50 = £0.005 = 0.5p: half rounds up to 1p.
		{"half a penny rounds up", "0.0001", "50", 1},
		// £0.0001 × 49 = 0.49p rounds down.
		{"under half rounds down", "0.0001", "49", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Entitlement{RatePerWeightedPatient: mustDecimal(t, tt.rate), WeightedPopulation: mustDecimal(t, tt.pop)}
			if got := e.AmountPence(); got != tt.wantPence {
				t.Errorf("AmountPence() = %d, want %d", got, tt.wantPence)
			}
		})
	}
}

func mustDecimal(t *testing.T, s string) Decimal {
	t.Helper()
	d, err := ParseDecimal(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFinancialYear(t *testing.T) {
	y, err := ParseFinancialYear("2025-26")
	if err != nil {
		t.Fatal(err)
	}
	if y.Start() != NewDate(2025, time.April, 1) || y.End() != NewDate(2026, time.March, 31) || y.String() != "2025-26" {
		t.Errorf("2025-26 = %s..%s %q", y.Start(), y.End(), y)
	}
	for _, bad := range []string{"2025-27", "2025/26", "25-26", "1999-00", "2025-2026", "9999-00", "2100-01"} {
		if _, err := ParseFinancialYear(bad); err == nil {
			t.Errorf("ParseFinancialYear(%q) accepted", bad)
		}
	}
	if _, err := ParseFinancialYear("2099-00"); err != nil {
		t.Errorf("a year spanning a century is valid: %v", err)
	}
	for d, want := range map[string]string{"2025-03-31": "2024-25", "2025-04-01": "2025-26", "2026-01-15": "2025-26"} {
		day, _ := ParseDate(d)
		if got := FinancialYearOf(day).String(); got != want {
			t.Errorf("FinancialYearOf(%s) = %s, want %s", d, got, want)
		}
	}
}

func TestCheckRegistration(t *testing.T) {
	tests := []struct {
		register Register
		prefix   string
		number   string
		ok       bool
	}{
		{RegisterHCPC, "OT", "OT123456", true},
		{RegisterHCPC, "OT", "OT1", true},
		{RegisterHCPC, "OT", "OT1234567", false}, // seven digits
		{RegisterHCPC, "OT", "PH123456", false},  // a physiotherapist's number
		{RegisterHCPC, "OT", "OT", false},
		{RegisterHCPC, "OT", "OT12A4", false},
		{RegisterHCPC, "", "123", false}, // a role without letters cannot match
		{RegisterNMC, "", "01A2345N", true},
		{RegisterNMC, "", "1A2345N", false},
		{RegisterNMC, "", "01A2345", false},
		{RegisterGPhC, "", "2081234", true},
		{RegisterGPhC, "", "208123", false},
		{RegisterGMC, "", "7654321", true},
		{RegisterGMC, "", "GMC7654321", false},
		{RegisterNone, "", "", true},
	}
	for _, tt := range tests {
		err := CheckRegistration(tt.register, tt.prefix, tt.number)
		if (err == nil) != tt.ok {
			t.Errorf("CheckRegistration(%s, %q, %q) = %v, want ok=%v", tt.register, tt.prefix, tt.number, err, tt.ok)
		}
	}
}

func TestODSCodes(t *testing.T) {
	for code, want := range map[string]bool{"U12345": true, "U1234": false, "u12345": false, "A12345": false, "U123456": false} {
		if ValidPCNCode(code) != want {
			t.Errorf("ValidPCNCode(%q) != %v", code, want)
		}
	}
	for code, want := range map[string]bool{"A81001": true, "K81020": true, "81001A": false, "A8100": false, "a81001": false} {
		if ValidPracticeCode(code) != want {
			t.Errorf("ValidPracticeCode(%q) != %v", code, want)
		}
	}
}

func TestParseNames(t *testing.T) {
	if pcn, id, err := ParsePostName("name", "pcns/U12345/posts/ot-frailty"); err != nil || pcn != "U12345" || id != "ot-frailty" {
		t.Errorf("ParsePostName = %q %q %v", pcn, id, err)
	}
	for _, bad := range []string{"pcns/U12345/posts/", "pcns/X12345/posts/abcd", "pcns/U12345/roles/abcd", "pcns/U12345/posts/ab/cd"} {
		_, _, err := ParsePostName("name", bad)
		e, ok := AsError(err)
		if !ok || e.Kind != KindInvalid || e.Violations[0].Field != "name" {
			t.Errorf("ParsePostName(%q) = %v, want INVALID on field name", bad, err)
		}
	}
	if role, d, err := ParseRateName("name", "roles/occupational-therapist/rates/2025-04-01"); err != nil || role != "occupational-therapist" || d.String() != "2025-04-01" {
		t.Errorf("ParseRateName = %q %s %v", role, d, err)
	}
	if pcn, err := ParsePCNParent("parent", "pcns/-"); err != nil || pcn != "" {
		t.Errorf("pcns/- = %q %v, want every PCN", pcn, err)
	}
}

func TestParsePoundsIsExactToThePenny(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"4400", 440000, true},
		{"4400.5", 440050, true},
		{"4,400.00", 440000, true},
		{" £4,400.07 ", 440007, true},
		{"0.01", 1, true},
		{"0", 0, true},
		{"44.001", 0, false}, // a tenth of a penny
		{"-1.00", 0, false},
		{"4400.", 0, false},
		{"", 0, false},
		{"£", 0, false},
		{"1e3", 0, false},
		{"12345678901234", 0, false},
	} {
		got, err := ParsePounds(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParsePounds(%q) = %d, %v; want %d (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
