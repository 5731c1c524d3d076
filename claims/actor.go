package claims

import (
	"context"
	"errors"
	"strconv"

	"github.com/jmoiron/sqlx"
)

// AccessRole is what a caller does in the scheme; it decides, with the
// caller's organisation, which rows the store lets the caller see.
type AccessRole string

// The access roles.
const (
	// A PCN clinical director: one PCN's posts and claims, and submits.
	RolePCNClinicalDirector AccessRole = "pcn-clinical-director"
	// A PCN manager: prepares one PCN's posts and draft claims.
	RolePCNManager AccessRole = "pcn-manager"
	// A commissioner approver: reviews the claims of the PCNs it commissions.
	RoleCommissionerApprover AccessRole = "commissioner-approver"
	// Commissioner finance: reads and pays the PCNs it commissions.
	RoleCommissionerFinance AccessRole = "commissioner-finance"
	// A Training Hub officer: the CPD ledger of the hub's practices.
	RoleTrainingHubOfficer AccessRole = "training-hub-officer"
	// A GP practice manager: the practice's CPD needs and funding requests.
	RolePracticeManager AccessRole = "practice-manager"
	// A national administrator at NHS England: reference data, every PCN.
	RoleNationalAdministrator AccessRole = "national-administrator"
	// Another NHS service, with the permissions its configuration grants.
	RoleServiceAccount AccessRole = "service-account"
	// arrs itself, for example loading demo data.
	RoleSystem AccessRole = "system"
)

// AccessRoles lists every role a person or service can hold (not RoleSystem).
var AccessRoles = []AccessRole{RolePCNClinicalDirector, RolePCNManager, RoleCommissionerApprover,
	RoleCommissionerFinance, RoleTrainingHubOfficer, RolePracticeManager, RoleNationalAdministrator, RoleServiceAccount}

// OrgKind says what kind of organisation an actor acts for.
type OrgKind string

// The kinds of organisation.
const (
	OrgPCN          OrgKind = "pcn"
	OrgCommissioner OrgKind = "commissioner"
	OrgTrainingHub  OrgKind = "training-hub"
	OrgPractice     OrgKind = "practice"
	OrgNational     OrgKind = "national"
)

// Actor is who is calling, for whom and through which RPC. The server puts
// one in every request's context; the store reads it to scope queries to the
// actor's organisation and to write the audit trail. A context without an
// actor sees nothing and may write nothing.
type Actor struct {
	// Subject identifies the person or service (a JWT "sub", a certificate's
	// service account, or "system:…").
	Subject string
	Role    AccessRole
	OrgKind OrgKind
	// OrgCode is the organisation's code: a PCN or commissioner ODS code, a
	// Training Hub id, a practice ODS code; empty for national and system
	// actors.
	OrgCode string
	// RPC is the full method name of the call, for the audit trail.
	RPC string
	// RequestID correlates the audit event with logs.
	RequestID string
}

// Organisation renders the actor's organisation for people: "pcns/U12345".
func (a Actor) Organisation() string {
	switch a.OrgKind {
	case OrgPCN:
		return pcnName(a.OrgCode)
	case OrgCommissioner:
		return commissionerName(a.OrgCode)
	case OrgTrainingHub:
		return "trainingHubs/" + a.OrgCode
	case OrgPractice:
		return "practices/" + a.OrgCode
	}
	return string(a.OrgKind)
}

// System is the actor for arrs's own writes, such as loading demo data.
func System(subject string) Actor {
	return Actor{Subject: "system:" + subject, Role: RoleSystem, OrgKind: OrgNational}
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// errNoActor is a programming error: every call path must name its actor.
var errNoActor = errors.New("claims: no actor in context")

// scopeKind is how far an actor's sight reaches.
type scopeKind int

// The scopes: nothing, one PCN, the PCNs a commissioner commissions (and the
// claims of the months it commissioned), or everything.
const (
	scopeNone scopeKind = iota
	scopePCN
	scopeCommissioner
	scopeAll
)

// pcnScope is which PCNs' rows an actor may see.
type pcnScope struct {
	kind scopeKind
	code string // the PCN or commissioner, for scopePCN and scopeCommissioner
}

// scopeOf derives the PCN scope from the actor: national and system actors
// and (for now) service accounts see every PCN, PCN staff their own, a
// commissioner's staff the PCNs it commissions, anyone else none.
func scopeOf(ctx context.Context) pcnScope {
	a, ok := ActorFrom(ctx)
	if !ok {
		return pcnScope{kind: scopeNone}
	}
	switch {
	case a.Role == RoleSystem || a.OrgKind == OrgNational:
		return pcnScope{kind: scopeAll}
	case a.OrgKind == OrgPCN && a.OrgCode != "":
		return pcnScope{kind: scopePCN, code: a.OrgCode}
	case a.OrgKind == OrgCommissioner && a.OrgCode != "":
		return pcnScope{kind: scopeCommissioner, code: a.OrgCode}
	}
	return pcnScope{kind: scopeNone}
}

// args builds a query's positional arguments, so that conditions which
// depend on the actor can be composed without counting placeholders by hand.
type args []any

// add appends v and returns its placeholder.
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// pcnCondition returns a SQL condition limiting col (a PCN code column) to
// the PCNs the actor in ctx may see. The condition is plain SQL per scope, not
// a CASE over parameters, so the planner can use the PCN-keyed indexes.
func pcnCondition(ctx context.Context, col string, a *args) string {
	s := scopeOf(ctx)
	switch s.kind {
	case scopeAll:
		return "true"
	case scopePCN:
		return col + " = " + a.add(s.code)
	case scopeCommissioner:
		return col + " IN (SELECT code FROM pcns WHERE commissioner_code = " + a.add(s.code) + ")"
	}
	return "false"
}

// pcnVisible returns NOT_FOUND unless the PCN exists and the actor may see
// it, so a caller cannot learn that another organisation's PCN exists.
func pcnVisible(ctx context.Context, q sqlx.QueryerContext, code string) error {
	a := args{code}
	return mustExist(ctx, q, pcnName(code),
		`SELECT EXISTS (SELECT 1 FROM pcns WHERE code = $1 AND `+pcnCondition(ctx, "code", &a)+`)`, a...)
}

// requireNational refuses a write to national reference data (organisations,
// the catalogue, funding) from anyone but NHS England or arrs itself. The
// server's policy refuses such calls first; this is the data layer's own
// line of defence.
func requireNational(ctx context.Context) error {
	a, ok := ActorFrom(ctx)
	switch {
	case !ok:
		return errNoActor
	case a.Role == RoleNationalAdministrator || a.Role == RoleSystem:
		return nil
	}
	return PermissionDenied("only a national administrator may change reference data")
}

// requirePostWriter lets only a PCN's own staff (and arrs itself) change its
// posts; commissioners and NHS England read them.
func requirePostWriter(ctx context.Context) error {
	a, ok := ActorFrom(ctx)
	switch {
	case !ok:
		return errNoActor
	case a.Role == RolePCNClinicalDirector || a.Role == RolePCNManager || a.Role == RoleSystem:
		return nil
	}
	return PermissionDenied("only the PCN's own staff may change its posts")
}

// requireRole lets only the given roles (and arrs itself) through: the
// data layer's own check behind the server's policy.
func requireRole(ctx context.Context, what string, roles ...AccessRole) error {
	a, ok := ActorFrom(ctx)
	if !ok {
		return errNoActor
	}
	if a.Role == RoleSystem {
		return nil
	}
	for _, r := range roles {
		if a.Role == r {
			return nil
		}
	}
	return PermissionDenied("a " + string(a.Role) + " may not " + what)
}
