package claims

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// Local roles (from 2026/27 a commissioner may approve additional roles for
// its own PCNs) and role rules (conditions on who may be engaged in a role,
// with effective dates, such as the GP "within 2 years of CCT" restriction).
//
// A local role is a row of the role catalogue owned by its commissioner, so
// that posts, rates, pricing and submission treat it as any role; only which
// callers see it differs (roleCondition). Its maximum is the rate effective
// on its first reimbursable day.

// OptionalCode is an organisation code column that may be NULL, read as "".
type OptionalCode string

// Scan reads NULL as "".
func (c *OptionalCode) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c = ""
	case string:
		*c = OptionalCode(v)
	case []byte:
		*c = OptionalCode(v)
	default:
		return fmt.Errorf("claims: cannot read %T as a code", src)
	}
	return nil
}

// Value writes "" as NULL, so a foreign key to commissioners holds.
func (c OptionalCode) Value() (driver.Value, error) {
	if c == "" {
		return nil, nil
	}
	return string(c), nil
}

// RuleKind is what a role rule requires.
type RuleKind string

// The rule kinds.
const (
	// RuleCCTWithinYears: a staff member starting while the rule is in
	// force must start within Years of their Certificate of Completion of
	// Training (GPs from 1 October 2024 to 31 March 2026).
	RuleCCTWithinYears RuleKind = "cct_within_years"
)

// RoleRule is one condition on engaging staff in a role, in force from
// EffectiveFrom to EffectiveTo (open when zero).
type RoleRule struct {
	Kind          RuleKind `db:"kind"`
	EffectiveFrom Date     `db:"effective_from"`
	EffectiveTo   Date     `db:"effective_to"`
	Years         int32    `db:"years"`
}

// inForce reports whether the rule applies on d.
func (r RoleRule) inForce(d Date) bool {
	return !d.Before(r.EffectiveFrom) && (r.EffectiveTo.IsZero() || !d.After(r.EffectiveTo))
}

func validateRules(vs *Violations, f string, rules []RoleRule) {
	for i, r := range rules {
		field := fmt.Sprintf("%s[%d]", f, i)
		if r.Kind != RuleCCTWithinYears {
			vs.Add(field+".kind", "UNKNOWN", "must be CCT_WITHIN_YEARS")
		}
		if r.EffectiveFrom.IsZero() {
			vs.Add(field+".effective_from", "REQUIRED", "the first day the rule applies is required")
		}
		if !r.EffectiveTo.IsZero() && r.EffectiveTo.Before(r.EffectiveFrom) {
			vs.Add(field+".effective_to", "DATE_ORDER", "must not be before effective_from")
		}
		if r.Years < 1 || r.Years > 50 {
			vs.Add(field+".years", "YEARS_RANGE", "must be 1 to 50")
		}
		for j, o := range rules[:i] {
			if o.Kind == r.Kind && overlaps(o, r) {
				vs.Add(field+".effective_from", "RULE_OVERLAP", "overlaps %s[%d]: one rule of a kind per day", f, j)
			}
		}
	}
}

func overlaps(a, b RoleRule) bool {
	return (b.EffectiveTo.IsZero() || !b.EffectiveTo.Before(a.EffectiveFrom)) &&
		(a.EffectiveTo.IsZero() || !a.EffectiveTo.Before(b.EffectiveFrom))
}

// loadRules fills in the rules of every role in one query.
func loadRules(ctx context.Context, q sqlx.QueryerContext, roles []Role) error {
	type ruleRow struct {
		RoleID string `db:"role_id"`
		RoleRule
	}
	return attach(ctx, q, roles, func(r Role) string { return r.ID },
		`SELECT role_id, kind, effective_from, effective_to, years FROM role_rules
		WHERE role_id = ANY($1) ORDER BY role_id, kind, effective_from`,
		func(r ruleRow) string { return r.RoleID },
		func(r *Role, row ruleRow) { r.Rules = append(r.Rules, row.RoleRule) })
}

func writeRules(ctx context.Context, tx *txn, r Role) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM role_rules WHERE role_id = $1`, r.ID); err != nil {
		return err
	}
	for _, rule := range r.Rules {
		if _, err := tx.ExecContext(ctx, `INSERT INTO role_rules (role_id, kind, effective_from, effective_to, years)
			VALUES ($1, $2, $3, $4, $5)`, r.ID, rule.Kind, rule.EffectiveFrom, rule.EffectiveTo, rule.Years); err != nil {
			return err
		}
	}
	return nil
}

// checkRules applies the role's rules in force on the post's start date to
// a post with someone in it: engagement is judged when the person starts,
// so a GP engaged within 2 years of CCT in 2025 stays claimable after.
func (p Post) checkRules(vs *Violations, role Role) {
	for _, rule := range role.Rules {
		if rule.Kind != RuleCCTWithinYears || !rule.inForce(p.StartDate) {
			continue
		}
		switch latest := (Date{t: p.CCTDate.t.AddDate(int(rule.Years), 0, 0)}); {
		case p.CCTDate.IsZero():
			vs.Add("post.cct_date", "REQUIRED", "%s staff starting on %s must be within %d years of their CCT: give its date",
				role.DisplayName, p.StartDate, rule.Years)
		case p.StartDate.After(latest):
			vs.Add("post.cct_date", "CCT_WITHIN_YEARS", "%s staff starting on %s must be within %d years of their CCT (%s): the latest start is %s",
				role.DisplayName, p.StartDate, rule.Years, p.CCTDate, latest)
		}
	}
}

// localRoleElsewhere refuses a national change to a local role: its
// approval and maximum are its commissioner's.
func localRoleElsewhere(r Role) error {
	return FailedPrecondition(r.Name(), "LOCAL_ROLE", r.Name()+" is a local role of "+commissionerName(string(r.CommissionerCode))+
		"; it is changed through "+localRoleName(string(r.CommissionerCode), r.ID))
}

// LocalRole is a role a commissioner approved for its own PCNs: the
// catalogue role, and the maximum reimbursable amount approved for it.
type LocalRole struct {
	Role
	// MaxAnnualPence is the most reimbursed a year at 1.0 WTE, including
	// employer on-costs (NI and pension) as every ARRS maximum does: actual
	// salary plus on-costs, up to this, pro rata for WTE and days in post.
	MaxAnnualPence int64  `db:"max_annual_pence"`
	Source         string `db:"source"`
	Illustrative   bool   `db:"illustrative"`
}

// Name is the resource name, commissioners/{code}/localRoles/{id}.
func (l LocalRole) Name() string { return localRoleName(string(l.CommissionerCode), l.ID) }

// Retired reports whether the commissioner has withdrawn its approval.
func (l LocalRole) Retired() bool { return l.RetireTime != nil }

func (l LocalRole) validate(vs *Violations) {
	l.validateAs(vs, "local_role.", "local_role_id")
	if l.MaxAnnualPence <= 0 || l.MaxAnnualPence > maxAnnualPence {
		vs.Add("local_role.max_annual_pence", "AMOUNT_RANGE", "must be more than 0 and at most 100000000 pence (£1m)")
	}
	if len(l.Source) > 500 {
		vs.Add("local_role.source", "LENGTH", "at most 500 characters")
	}
}

func localRoleName(code, id string) string { return "commissioners/" + code + "/localRoles/" + id }

// ParseLocalRoleName reads "commissioners/{code}/localRoles/{id}".
func ParseLocalRoleName(field, name string) (string, string, error) {
	v, ok := segments(name, "commissioners/{code}/localRoles/{id}")
	if !ok || !ccgCodePattern.MatchString(v[0]) || !roleIDPattern.MatchString(v[1]) {
		return "", "", nameError(field, name, "commissioners/{code}/localRoles/{local_role}")
	}
	return v[0], v[1], nil
}

// ParseCommissionerParent reads "commissioners/{code}" or "commissioners/-"
// (every commissioner the caller may see, returned as "").
func ParseCommissionerParent(field, name string) (string, error) {
	if name == "commissioners/-" {
		return "", nil
	}
	return ParseCommissionerName(field, name)
}

const localRoleSelect = `SELECT r.id, r.display_name, r.afc_band, r.register, r.registration_prefix, r.reimbursable_from,
	r.reimbursable_to, r.commissioner_code, r.retire_time, r.revision, r.create_time, r.update_time,
	t.national_max_pence AS max_annual_pence, t.source, t.illustrative
	FROM roles r JOIN rates t ON t.role_id = r.id AND t.effective_date = r.reimbursable_from`

func getLocalRole(ctx context.Context, q sqlx.QueryerContext, name string) (LocalRole, error) {
	var out LocalRole
	code, id, err := ParseLocalRoleName("name", name)
	if err != nil {
		return out, err
	}
	a := args{code, id}
	err = getOne(ctx, q, &out, name, localRoleSelect+` WHERE r.commissioner_code = $1 AND r.id = $2 AND `+
		roleCondition(ctx, "r.commissioner_code", &a), a...)
	return out, err
}

// GetLocalRole reads one local role; NOT_FOUND unless the caller is its
// commissioner's, one of its PCNs' or national.
func (s *Store) GetLocalRole(ctx context.Context, code, id string) (LocalRole, error) {
	return getLocalRole(ctx, s.db, localRoleName(code, id))
}

// ListLocalRoles lists a commissioner's local roles (every visible one when
// code is empty), retired ones too, in commissioner then id order.
func (s *Store) ListLocalRoles(ctx context.Context, code string, page Page) ([]LocalRole, string, error) {
	afterCode, afterID := "", ""
	if page.After != "" {
		var err error
		if afterCode, afterID, err = ParseLocalRoleName("page_token", page.After); err != nil {
			return nil, "", err
		}
	}
	a := args{afterCode, afterID, code, page.Size + 1}
	var rows []LocalRole
	if err := s.db.SelectContext(ctx, &rows, localRoleSelect+` WHERE r.commissioner_code IS NOT NULL
		AND (r.commissioner_code, r.id) > ($1, $2) AND ($3 = '' OR r.commissioner_code = $3) AND `+
		roleCondition(ctx, "r.commissioner_code", &a)+` ORDER BY r.commissioner_code, r.id LIMIT $4`, a...); err != nil {
		return nil, "", err
	}
	rows, next := pageOf(rows, page.Size)
	return rows, next, nil
}

// requireLocalRoleWriter lets only the commissioner's own approvers (and
// arrs itself) approve, change or retire its local roles. Another
// commissioner's staff get NOT_FOUND, as for any resource not theirs.
func requireLocalRoleWriter(ctx context.Context, code, name string) error {
	if err := requireRole(ctx, "approve local roles", RoleCommissionerApprover); err != nil {
		return err
	}
	a, _ := ActorFrom(ctx)
	if a.Role != RoleSystem && (a.OrgKind != OrgCommissioner || a.OrgCode != code) {
		return NotFound(name)
	}
	return nil
}

// CreateLocalRole approves a role for the commissioner's PCNs: a catalogue
// role owned by the commissioner, and its maximum as the rate from its
// first reimbursable day, in one audited transaction. Only an ICB approves
// local roles (CCGs ended before the rule began).
func (s *Store) CreateLocalRole(ctx context.Context, req Request, l LocalRole) (LocalRole, error) {
	name := l.Name()
	if err := requireLocalRoleWriter(ctx, string(l.CommissionerCode), name); err != nil {
		return LocalRole{}, err
	}
	l.HeadcountCaps, l.Rules, l.RetireTime = nil, nil, nil
	if err := validated(l.validate); err != nil {
		return LocalRole{}, err
	}
	return once(ctx, s, req, func(tx *txn) (LocalRole, string, error) {
		var kind CommissionerKind
		if err := getOne(ctx, tx, &kind, commissionerName(string(l.CommissionerCode)),
			`SELECT kind FROM commissioners WHERE code = $1`, l.CommissionerCode); err != nil {
			return LocalRole{}, "", err
		}
		if kind != KindICB {
			return LocalRole{}, "", FailedPrecondition(commissionerName(string(l.CommissionerCode)), "COMMISSIONER_NOT_ICB",
				"only an integrated care board approves local roles")
		}
		if inserted, err := insertRoleRow(ctx, tx, l.Role); err != nil {
			return LocalRole{}, "", err
		} else if !inserted {
			return LocalRole{}, "", AlreadyExists(name, roleName(l.ID)+" is taken; choose another local_role_id")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO rates (role_id, effective_date, national_max_pence, source, illustrative)
			VALUES ($1, $2, $3, $4, $5)`, l.ID, l.ReimbursableFrom, l.MaxAnnualPence, l.Source, l.Illustrative); err != nil {
			return LocalRole{}, "", err
		}
		out, err := getLocalRole(ctx, tx, name)
		if err != nil {
			return out, "", err
		}
		return out, name, s.appendAudit(ctx, tx, name, "create", "", nil, out)
	}, getLocalRole)
}

// UpdateLocalRole applies change to an approved local role under an etag
// check. Its id, commissioner and first reimbursable day (the date of its
// maximum) are its identity; a retired role is not changed. A changed
// maximum offers the months already settled a top-up, as a corrected rate
// does.
func (s *Store) UpdateLocalRole(ctx context.Context, code, id, etag string, change func(*LocalRole)) (LocalRole, error) {
	name := localRoleName(code, id)
	if err := requireLocalRoleWriter(ctx, code, name); err != nil {
		return LocalRole{}, err
	}
	return update(ctx, s, mutation[LocalRole]{
		table: "roles", where: "id = $1 AND commissioner_code = $2", key: []any{id, code}, name: name, get: getLocalRole,
		apply: func(_ *txn, cur LocalRole, next *LocalRole) error {
			if cur.Retired() {
				return FailedPrecondition(name, "LOCAL_ROLE_RETIRED", name+" is retired; approve a new local role instead")
			}
			change(next)
			next.ID, next.CommissionerCode, next.ReimbursableFrom, next.RetireTime = cur.ID, cur.CommissionerCode, cur.ReimbursableFrom, nil
			return validated(next.validate)
		},
		write: func(tx *txn, next LocalRole) error {
			if _, err := tx.ExecContext(ctx, `UPDATE roles SET display_name = $2, afc_band = $3, register = $4,
				registration_prefix = $5, reimbursable_to = $6, revision = revision + 1, update_time = now() WHERE id = $1`,
				id, next.DisplayName, next.AfCBand, next.Register, next.RegistrationPrefix, next.ReimbursableTo); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE rates SET national_max_pence = $3, source = $4, illustrative = $5,
				revision = revision + 1, update_time = now() WHERE role_id = $1 AND effective_date = $2`,
				id, next.ReimbursableFrom, next.MaxAnnualPence, next.Source, next.Illustrative); err != nil {
				return err
			}
			return s.offerSupplementaryClaims(ctx, tx, id, next.ReimbursableFrom)
		},
	}, etag)
}

// RetireLocalRole withdraws the commissioner's approval: lastDay is the
// last day the role is reimbursable, and no new post may take the role.
// Posts already in it are still priced up to lastDay, since claims for
// months before it may still come in.
func (s *Store) RetireLocalRole(ctx context.Context, req Request, code, id, etag string, lastDay Date) (LocalRole, error) {
	name := localRoleName(code, id)
	if err := requireLocalRoleWriter(ctx, code, name); err != nil {
		return LocalRole{}, err
	}
	if lastDay.IsZero() {
		return LocalRole{}, Invalid("last_day", "REQUIRED", "the last reimbursable day is required")
	}
	return once(ctx, s, req, func(tx *txn) (LocalRole, string, error) {
		if err := lockAndCheck(ctx, tx, "roles", "id = $1 AND commissioner_code = $2", "", name, etag, id, code); err != nil {
			return LocalRole{}, "", err
		}
		cur, err := getLocalRole(ctx, tx, name)
		if err != nil {
			return cur, "", err
		}
		switch {
		case cur.Retired():
			return cur, "", FailedPrecondition(name, "LOCAL_ROLE_RETIRED", name+" is already retired")
		case lastDay.Before(cur.ReimbursableFrom):
			return cur, "", Invalid("last_day", "DATE_ORDER", "must not be before the role's first reimbursable day, %s", cur.ReimbursableFrom)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE roles SET reimbursable_to = $2, retire_time = $3, revision = revision + 1,
			update_time = now() WHERE id = $1`, id, lastDay, s.now()); err != nil {
			return cur, "", err
		}
		out, err := getLocalRole(ctx, tx, name)
		if err != nil {
			return out, "", err
		}
		return out, name, s.appendAudit(ctx, tx, name, "retire", "", cur, out)
	}, getLocalRole)
}

// roleForPost reads the role a post in pcn refers to: a national role or a
// local role of the PCN's commissioner. Any other (unknown, or another
// commissioner's) is a bad field, worded alike so that it reveals nothing.
func roleForPost(ctx context.Context, q sqlx.QueryerContext, roleID, pcn string) (Role, error) {
	a := args{roleID}
	role, err := getRoleWhere(ctx, q, roleName(roleID), "id = $1 AND "+pcnRoles("commissioner_code", &a, pcn), a...)
	if IsKind(err, KindNotFound) {
		return role, Invalid("post.role", "UNKNOWN_ROLE", "%s is not in the role catalogue", roleName(roleID))
	}
	return role, err
}
