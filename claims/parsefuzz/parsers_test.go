// Package parsefuzz fuzzes package claims' parsers of the values a request
// carries: none may panic, and what one accepts must print back as text it
// reads the same way (so a stored value always reads back), in valid UTF-8
// without control characters (so it can reach PostgreSQL). Seeds are in
// testdata/fuzz/<FuzzName>; `make fuzz` runs each for FUZZTIME.
//
// It is a package of its own, apart from claims' tests, because those start
// a PostgreSQL cluster in TestMain, which every fuzz worker process would
// repeat before fuzzing a single input; these need no database.
package parsefuzz

import (
	"strings"
	"testing"
	"unicode/utf8"

	"arrs.nhs.uk/arrs/claims"
)

// printable reports whether s can be stored as text and shown.
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

func FuzzParseDate(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		d, err := claims.ParseDate(s)
		if err != nil {
			return
		}
		again, err := claims.ParseDate(d.String())
		if err != nil || again != d || !printable(d.String()) {
			t.Errorf("claims.ParseDate(%q) = %v, which reads back as %v, %v", s, d, again, err)
		}
	})
}

func FuzzParseDecimal(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		d, err := claims.ParseDecimal(s)
		if err != nil {
			return
		}
		again, err := claims.ParseDecimal(d.String())
		if err != nil || again != d {
			t.Errorf("claims.ParseDecimal(%q) = %v, which reads back as %v, %v", s, d, again, err)
		}
	})
}

func FuzzParseMonth(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		m, err := claims.ParseMonth(s)
		if err != nil {
			return
		}
		again, err := claims.ParseMonth(m.String())
		if err != nil || again != m || m.String() != s {
			t.Errorf("claims.ParseMonth(%q) = %v, which reads back as %v, %v: one month, one spelling", s, m, again, err)
		}
	})
}

func FuzzParseFinancialYear(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		y, err := claims.ParseFinancialYear(s)
		if err != nil {
			return
		}
		if y.String() != s || y.Start().Year() > 2099 {
			t.Errorf("claims.ParseFinancialYear(%q) = %v (from %s)", s, y, y.Start())
		}
	})
}

func FuzzParsePounds(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		p, err := claims.ParsePounds(s)
		if err != nil {
			return
		}
		if p < 0 {
			t.Errorf("claims.ParsePounds(%q) = %d, negative", s, p)
		}
	})
}

// FuzzParseNames runs every resource name parser over one string: what any
// accepts must be made of printable parts, since they become SQL
// parameters and resource names in responses.
func FuzzParseNames(f *testing.F) {
	f.Fuzz(func(t *testing.T, name string) {
		var parts []string
		add := func(err error, ss ...string) {
			if err == nil {
				parts = append(parts, ss...)
			}
		}
		s, err := claims.ParseCommissionerName("f", name)
		add(err, s)
		s, err = claims.ParsePCNName("f", name)
		add(err, s)
		s, err = claims.ParsePCNParent("f", name)
		add(err, s)
		s, err = claims.ParseRoleName("f", name)
		add(err, s)
		s, err = claims.ParseRoleParent("f", name)
		add(err, s)
		s, d, err := claims.ParseRateName("f", name)
		add(err, s, d.String())
		y, err := claims.ParseFinancialYearName("f", name)
		add(err, y.String())
		s, y, err = claims.ParseEntitlementName("f", name)
		add(err, s, y.String())
		s, s2, err := claims.ParsePostName("f", name)
		add(err, s, s2)
		s, s2, err = claims.ParseClaimName("f", name)
		add(err, s, s2)
		s, s2, s3, err := claims.ParseClaimLineName("f", name)
		add(err, s, s2, s3)
		s, y, err = claims.ParseBudgetName("f", name)
		add(err, s, y.String())
		for _, p := range parts {
			if !printable(p) {
				t.Errorf("%q parsed into %q", name, p)
			}
		}
	})
}
