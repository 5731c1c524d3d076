package claims

import (
	"database/sql/driver"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The formats of national identifiers. They are facts of the registers and of
// the Organisation Data Service, not reference figures, so they live in code.
var (
	pcnCodePattern          = regexp.MustCompile(`^U[0-9]{5}$`)
	practiceCodePattern     = regexp.MustCompile(`^[A-Z][0-9]{5}$`)
	ccgCodePattern          = regexp.MustCompile(`^[0-9A-Z]{3}$|^[0-9A-Z]{5}$`)
	icbCodePattern          = regexp.MustCompile(`^Q[0-9A-Z]{2}$`)
	roleIDPattern           = regexp.MustCompile(`^[a-z][a-z0-9-]{1,61}[a-z0-9]$`)
	postIDPattern           = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,61}[a-z0-9]$`)
	hcpcPrefixPattern       = regexp.MustCompile(`^[A-Z]{2}$`)
	afcBandPattern          = regexp.MustCompile(`^([1-9]|8[a-d])?$`)
	financialYearPattern    = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})$`)
	nmcPinPattern           = regexp.MustCompile(`^[0-9]{2}[A-Z][0-9]{4}[A-Z]$`)
	sevenDigitNumberPattern = regexp.MustCompile(`^[0-9]{7}$`)
)

// ValidPCNCode reports whether s is a PCN ODS code: U and five digits.
func ValidPCNCode(s string) bool { return pcnCodePattern.MatchString(s) }

// ValidPracticeCode reports whether s is a GP practice ODS code: a letter and
// five digits.
func ValidPracticeCode(s string) bool { return practiceCodePattern.MatchString(s) }

// ICBStart is the first day of Integrated Care Boards; CCGs commissioned until
// the day before. Commissioner history turns on it.
var ICBStart = NewDate(2022, time.July, 1)

// Register is a professional register.
type Register string

// The registers ARRS roles use.
const (
	RegisterNone Register = "none"
	RegisterHCPC Register = "hcpc"
	RegisterNMC  Register = "nmc"
	RegisterGPhC Register = "gphc"
	RegisterGMC  Register = "gmc"
)

// CheckRegistration returns nil when number is a well-formed registration on
// register r; prefix is the HCPC profession letters the role requires.
func CheckRegistration(r Register, prefix, number string) error {
	switch r {
	case RegisterNone:
		return nil
	case RegisterHCPC:
		rest, ok := strings.CutPrefix(number, prefix)
		if prefix == "" || !ok || len(rest) < 1 || len(rest) > 6 || !digits(rest) {
			return fmt.Errorf("an HCPC registration for this role is %s followed by up to 6 digits, for example %s123456", prefix, prefix)
		}
	case RegisterNMC:
		if !nmcPinPattern.MatchString(number) {
			return fmt.Errorf("an NMC PIN is 2 digits, a letter, 4 digits and a letter, for example 01A2345N")
		}
	case RegisterGPhC:
		if !sevenDigitNumberPattern.MatchString(number) {
			return fmt.Errorf("a GPhC registration is 7 digits")
		}
	case RegisterGMC:
		if !sevenDigitNumberPattern.MatchString(number) {
			return fmt.Errorf("a GMC reference number is 7 digits")
		}
	default:
		return fmt.Errorf("unknown register %q", r)
	}
	return nil
}

// FinancialYear is an NHS financial year, 1 April to 31 March, identified by
// the calendar year it starts in.
type FinancialYear int

// lastFinancialYear is the latest year ParseFinancialYear accepts: the
// scheme began in 2019, and a year further off than this century is a
// typing error ("9999-00"), not a plan.
const lastFinancialYear = 2099

// ParseFinancialYear reads "2025-26", from 2000-01 to 2099-00.
func ParseFinancialYear(s string) (FinancialYear, error) {
	m := financialYearPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a financial year of the form 2025-26", s)
	}
	start, _ := strconv.Atoi(m[1])
	end, _ := strconv.Atoi(m[2])
	if start > lastFinancialYear {
		return 0, fmt.Errorf("%q is not a financial year arrs knows: the latest is %d-00", s, lastFinancialYear)
	}
	if (start+1)%100 != end || start < 2000 {
		return 0, fmt.Errorf("%q is not a financial year: the second part must be the year after the first", s)
	}
	return FinancialYear(start), nil
}

// FinancialYearOf returns the financial year containing d.
func FinancialYearOf(d Date) FinancialYear {
	if d.Month() < time.April {
		return FinancialYear(d.Year() - 1)
	}
	return FinancialYear(d.Year())
}

// String returns "2025-26".
func (y FinancialYear) String() string { return fmt.Sprintf("%d-%02d", int(y), (int(y)+1)%100) }

// Start returns 1 April of the year.
func (y FinancialYear) Start() Date { return NewDate(int(y), time.April, 1) }

// End returns 31 March of the following calendar year.
func (y FinancialYear) End() Date { return NewDate(int(y)+1, time.March, 31) }

// Scan reads a financial year stored as text ("2025-26").
func (y *FinancialYear) Scan(src any) error {
	s, err := scanText(src, "FinancialYear")
	if err != nil {
		return err
	}
	fy, err := ParseFinancialYear(s)
	*y = fy
	return err
}

// Value stores a financial year as text.
func (y FinancialYear) Value() (driver.Value, error) { return y.String(), nil }

// MarshalJSON writes "2025-26".
func (y FinancialYear) MarshalJSON() ([]byte, error) { return []byte(`"` + y.String() + `"`), nil }
