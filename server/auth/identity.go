package auth

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"arrs.nhs.uk/arrs/claims"
)

// Identity is who is calling, as established from the call's credentials.
type Identity struct {
	// Subject identifies the person (the token's "sub") or the service (its
	// SPIFFE ID, spiffe://arrs/service/NAME).
	Subject string
	Role    claims.AccessRole
	OrgKind claims.OrgKind
	// OrgCode is the organisation's code: a PCN or commissioner ODS code, a
	// Training Hub id; empty for national roles and service accounts.
	OrgCode string
	// Permissions are a service account's grants from its configuration;
	// nil for people, whose permissions follow from Role.
	Permissions []string
	// Method is how the caller authenticated: MethodJWT or MethodMTLS.
	Method string
}

// The authentication methods an Identity records.
const (
	MethodJWT  = "jwt"
	MethodMTLS = "mtls"
)

// The custom claims a token carries the caller's role and organisation in.
const (
	RoleClaim = "arrs_role"
	OrgClaim  = "arrs_org"
)

// nationalOrg is the organisation code a national administrator's token may
// carry; it is the only national organisation, so the identity leaves
// OrgCode empty, as claims.Actor expects.
const nationalOrg = "nhs-england"

// trainingHubIDPattern bounds a Training Hub id to what can sit in a
// resource name ("trainingHubs/{id}") and a log line. arrs has no register
// of hub ids yet, so this checks shape only.
var trainingHubIDPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?$`)

// maxSubjectBytes bounds a subject, which goes into every audit event.
const maxSubjectBytes = 255

// reservedSubjectPrefixes are subjects arrs gives its own actors
// (claims.System) and service accounts; a token claiming one would read as
// arrs itself, or as a service, in the audit trail.
var reservedSubjectPrefixes = []string{"system:", "spiffe:"}

// personIdentity builds the identity a token describes, checking that role
// and org fit together. OrgKind follows from the role: a token cannot name
// a role of one kind of organisation and act for another.
func personIdentity(subject string, role claims.AccessRole, org string) (Identity, error) {
	if err := checkSubject(subject); err != nil {
		return Identity{}, err
	}
	id := Identity{Subject: subject, Role: role, OrgCode: org, Method: MethodJWT}
	switch role {
	case claims.RolePCNClinicalDirector, claims.RolePCNManager:
		if !claims.ValidPCNCode(org) {
			return Identity{}, claimsInvalid(fmt.Sprintf("%s %.20q is not a PCN ODS code (U and 5 digits), as role %s needs", OrgClaim, org, role))
		}
		id.OrgKind = claims.OrgPCN
	case claims.RoleCommissionerApprover, claims.RoleCommissionerFinance:
		// The commissioner code rules live with the commissioner resource
		// name; reusing them keeps one definition of a CCG or ICB code.
		if _, err := claims.ParseCommissionerName(OrgClaim, "commissioners/"+org); err != nil {
			return Identity{}, claimsInvalid(fmt.Sprintf("%s %.20q is not a CCG or ICB code, as role %s needs", OrgClaim, org, role))
		}
		id.OrgKind = claims.OrgCommissioner
	case claims.RoleTrainingHubOfficer:
		if !trainingHubIDPattern.MatchString(org) {
			return Identity{}, claimsInvalid(fmt.Sprintf("%s %.20q is not a Training Hub id, as role %s needs", OrgClaim, org, role))
		}
		id.OrgKind = claims.OrgTrainingHub
	case claims.RolePracticeManager:
		if !claims.ValidPracticeCode(org) {
			return Identity{}, claimsInvalid(fmt.Sprintf("%s %.20q is not a practice ODS code (a letter and 5 digits), as role %s needs", OrgClaim, org, role))
		}
		id.OrgKind = claims.OrgPractice
	case claims.RoleNationalAdministrator:
		if org != "" && org != nationalOrg {
			return Identity{}, claimsInvalid(fmt.Sprintf("%s %.20q: a national administrator acts for %s only", OrgClaim, org, nationalOrg))
		}
		id.OrgKind, id.OrgCode = claims.OrgNational, ""
	case claims.RoleServiceAccount:
		// A service account's permissions come from arrs's configuration,
		// keyed by its certificate; a token naming the role would claim
		// grants nobody configured.
		return Identity{}, claimsInvalid(RoleClaim + " service-account is only for client certificates")
	default:
		return Identity{}, claimsInvalid(fmt.Sprintf("%s %.40q is not an access role", RoleClaim, role))
	}
	return id, nil
}

func checkSubject(subject string) error {
	switch {
	case subject == "":
		return claimsInvalid("sub is missing")
	case len(subject) > maxSubjectBytes:
		return claimsInvalid("sub is longer than 255 bytes")
	case !utf8.ValidString(subject) || strings.ContainsFunc(subject, unicode.IsControl):
		return claimsInvalid("sub has invalid or control characters")
	case slices.ContainsFunc(reservedSubjectPrefixes, func(p string) bool { return strings.HasPrefix(subject, p) }):
		return claimsInvalid("sub uses a prefix reserved for arrs's own actors")
	}
	return nil
}
