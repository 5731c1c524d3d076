package cpd

import (
	"regexp"
	"strings"

	"arrs.nhs.uk/arrs/claims"
)

// idPattern is a hub's or scheme's id, and the shape of the ids the store
// gives needs, courses and requests (UUIDv7s, which sort by creation, so a
// keyset listing runs oldest first).
var idPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidID reports whether s can be a hub's or scheme's id.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// HubName is `trainingHubs/{hub}`.
func HubName(id string) string { return "trainingHubs/" + id }

// SchemeName is `cpdSchemes/{scheme}`.
func SchemeName(id string) string { return "cpdSchemes/" + id }

// PracticeName is `practices/{ods}`.
func PracticeName(ods string) string { return "practices/" + ods }

// BaselineName is `cpdSchemes/{scheme}/baselines/{ods}`.
func BaselineName(scheme, ods string) string { return SchemeName(scheme) + "/baselines/" + ods }

// AllocationName is `practices/{ods}/cpdAllocations/{scheme}.{year}`: one
// scheme year of one practice's fund.
func AllocationName(ods, scheme string, y claims.FinancialYear) string {
	return PracticeName(ods) + "/cpdAllocations/" + scheme + "." + y.String()
}

// NeedName is `practices/{ods}/cpdNeeds/{need}`.
func NeedName(ods, id string) string { return PracticeName(ods) + "/cpdNeeds/" + id }

// CourseName is `trainingHubs/{hub}/courses/{course}`.
func CourseName(hub, id string) string { return HubName(hub) + "/courses/" + id }

// RequestName is `practices/{ods}/cpdRequests/{request}`.
func RequestName(ods, id string) string { return PracticeName(ods) + "/cpdRequests/" + id }

// split parses name against pattern, whose `*` segments are returned.
func split(field, name, pattern string) ([]string, error) {
	got, want := strings.Split(name, "/"), strings.Split(pattern, "/")
	if len(got) != len(want) {
		return nil, claims.Invalid(field, "NAME_FORMAT", "must be a resource name %s", pattern)
	}
	var ids []string
	for i, w := range want {
		if w == "*" {
			if got[i] == "" {
				return nil, claims.Invalid(field, "NAME_FORMAT", "must be a resource name %s", pattern)
			}
			ids = append(ids, got[i])
		} else if got[i] != w {
			return nil, claims.Invalid(field, "NAME_FORMAT", "must be a resource name %s", pattern)
		}
	}
	return ids, nil
}

func checkID(field, id, what string) error {
	if !ValidID(id) {
		return claims.Invalid(field, "ID_FORMAT", "%s id %.70q must be lower-case letters, digits and hyphens (up to 63)", what, id)
	}
	return nil
}

func checkPractice(field, ods string) error {
	if !claims.ValidPracticeCode(ods) {
		return claims.Invalid(field, "PRACTICE_CODE_FORMAT", "practice ODS code %.20q must be a letter and 5 digits", ods)
	}
	return nil
}

// ParseHubName parses `trainingHubs/{hub}`.
func ParseHubName(field, name string) (string, error) {
	ids, err := split(field, name, "trainingHubs/*")
	if err != nil {
		return "", err
	}
	return ids[0], checkID(field, ids[0], "Training Hub")
}

// ParseSchemeName parses `cpdSchemes/{scheme}`.
func ParseSchemeName(field, name string) (string, error) {
	ids, err := split(field, name, "cpdSchemes/*")
	if err != nil {
		return "", err
	}
	return ids[0], checkID(field, ids[0], "scheme")
}

// ParsePracticeName parses `practices/{ods}`; `practices/-` is every
// practice the caller may see, returned as "-".
func ParsePracticeName(field, name string) (string, error) {
	ids, err := split(field, name, "practices/*")
	if err != nil {
		return "", err
	}
	if ids[0] == "-" {
		return "-", nil
	}
	return ids[0], checkPractice(field, ids[0])
}

// parseChild parses `{parent}/{collection}/{id}` for the given parent.
func parseChild(field, name, pattern string, parent func(string, string) (string, error)) (string, string, error) {
	ids, err := split(field, name, pattern)
	if err != nil {
		return "", "", err
	}
	p, err := parent(field, strings.Join(strings.Split(name, "/")[:2], "/"))
	if err != nil {
		return "", "", err
	}
	return p, ids[1], checkID(field, ids[1], "resource")
}

// ParseNeedName parses `practices/{ods}/cpdNeeds/{need}`.
func ParseNeedName(field, name string) (string, string, error) {
	return parseChild(field, name, "practices/*/cpdNeeds/*", practiceOnly)
}

// ParseRequestName parses `practices/{ods}/cpdRequests/{request}`.
func ParseRequestName(field, name string) (string, string, error) {
	return parseChild(field, name, "practices/*/cpdRequests/*", practiceOnly)
}

// ParseCourseName parses `trainingHubs/{hub}/courses/{course}`.
func ParseCourseName(field, name string) (string, string, error) {
	return parseChild(field, name, "trainingHubs/*/courses/*", ParseHubName)
}

// practiceOnly is ParsePracticeName without the `-` wildcard.
func practiceOnly(field, name string) (string, error) {
	ods, err := ParsePracticeName(field, name)
	if err == nil && ods == "-" {
		return "", claims.Invalid(field, "NAME_FORMAT", "names one practice, not practices/-")
	}
	return ods, err
}

// ParseBaselineName parses `cpdSchemes/{scheme}/baselines/{ods}`.
func ParseBaselineName(field, name string) (string, string, error) {
	ids, err := split(field, name, "cpdSchemes/*/baselines/*")
	if err != nil {
		return "", "", err
	}
	if err := checkID(field, ids[0], "scheme"); err != nil {
		return "", "", err
	}
	return ids[0], ids[1], checkPractice(field, ids[1])
}
