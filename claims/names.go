package claims

import (
	"fmt"
	"strings"
)

// Resource names (AIP-122) are the domain's identities; these parse them and
// say which request field was wrong when one is malformed.

// segments splits name into the values of pattern's {placeholders}, or
// reports false. pattern is like "pcns/{pcn}/posts/{post}".
func segments(name, pattern string) ([]string, bool) {
	got := strings.Split(name, "/")
	want := strings.Split(pattern, "/")
	if len(got) != len(want) {
		return nil, false
	}
	var vals []string
	for i, w := range want {
		if strings.HasPrefix(w, "{") {
			if got[i] == "" {
				return nil, false
			}
			vals = append(vals, got[i])
		} else if got[i] != w {
			return nil, false
		}
	}
	return vals, true
}

func nameError(field, name, pattern string) error {
	return Invalid(field, "RESOURCE_NAME_FORMAT", "%q is not a resource name of the form %s", name, pattern)
}

// ParseCommissionerName reads "commissioners/{code}".
func ParseCommissionerName(field, name string) (string, error) {
	v, ok := segments(name, "commissioners/{code}")
	if !ok || !ccgCodePattern.MatchString(v[0]) {
		return "", nameError(field, name, "commissioners/{code}")
	}
	return v[0], nil
}

// ParsePCNName reads "pcns/{pcn}".
func ParsePCNName(field, name string) (string, error) {
	v, ok := segments(name, "pcns/{pcn}")
	if !ok || !ValidPCNCode(v[0]) {
		return "", nameError(field, name, "pcns/U12345")
	}
	return v[0], nil
}

// ParsePCNParent reads "pcns/{pcn}" or "pcns/-" (every PCN, returned as "").
func ParsePCNParent(field, name string) (string, error) {
	if name == "pcns/-" {
		return "", nil
	}
	return ParsePCNName(field, name)
}

// ParseRoleName reads "roles/{role}".
func ParseRoleName(field, name string) (string, error) {
	v, ok := segments(name, "roles/{role}")
	if !ok || !roleIDPattern.MatchString(v[0]) {
		return "", nameError(field, name, "roles/{role}")
	}
	return v[0], nil
}

// ParseRoleParent reads "roles/{role}" or "roles/-" (every role, as "").
func ParseRoleParent(field, name string) (string, error) {
	if name == "roles/-" {
		return "", nil
	}
	return ParseRoleName(field, name)
}

// ParseRateName reads "roles/{role}/rates/{effective_date}".
func ParseRateName(field, name string) (string, Date, error) {
	v, ok := segments(name, "roles/{role}/rates/{date}")
	if ok && roleIDPattern.MatchString(v[0]) {
		if d, err := ParseDate(v[1]); err == nil {
			return v[0], d, nil
		}
	}
	return "", Date{}, nameError(field, name, "roles/{role}/rates/YYYY-MM-DD")
}

// ParseFinancialYearName reads "financialYears/{year}".
func ParseFinancialYearName(field, name string) (FinancialYear, error) {
	v, ok := segments(name, "financialYears/{year}")
	if ok {
		if y, err := ParseFinancialYear(v[0]); err == nil {
			return y, nil
		}
	}
	return 0, nameError(field, name, "financialYears/2025-26")
}

// ParseEntitlementName reads "pcns/{pcn}/entitlements/{year}".
func ParseEntitlementName(field, name string) (string, FinancialYear, error) {
	v, ok := segments(name, "pcns/{pcn}/entitlements/{year}")
	if ok && ValidPCNCode(v[0]) {
		if y, err := ParseFinancialYear(v[1]); err == nil {
			return v[0], y, nil
		}
	}
	return "", 0, nameError(field, name, "pcns/U12345/entitlements/2025-26")
}

// ParsePostName reads "pcns/{pcn}/posts/{post}".
func ParsePostName(field, name string) (string, string, error) {
	v, ok := segments(name, "pcns/{pcn}/posts/{post}")
	if !ok || !ValidPCNCode(v[0]) || !postIDPattern.MatchString(v[1]) {
		return "", "", nameError(field, name, "pcns/U12345/posts/{post}")
	}
	return v[0], v[1], nil
}

func commissionerName(code string) string { return "commissioners/" + code }
func pcnName(code string) string          { return "pcns/" + code }
func roleName(id string) string           { return "roles/" + id }
func rateName(role string, d Date) string { return fmt.Sprintf("roles/%s/rates/%s", role, d) }
func financialYearName(y FinancialYear) string {
	return "financialYears/" + y.String()
}
func entitlementName(pcn string, y FinancialYear) string {
	return fmt.Sprintf("pcns/%s/entitlements/%s", pcn, y)
}
func postName(pcn, id string) string { return fmt.Sprintf("pcns/%s/posts/%s", pcn, id) }
