package claims

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Role is a reimbursable ARRS role: a national one, or a local role a
// commissioner approved for its own PCNs (CommissionerCode set), which only
// those PCNs, the commissioner and NHS England see.
type Role struct {
	ID                 string         `db:"id"`
	DisplayName        string         `db:"display_name"`
	AfCBand            string         `db:"afc_band"`
	Register           Register       `db:"register"`
	RegistrationPrefix string         `db:"registration_prefix"`
	ReimbursableFrom   Date           `db:"reimbursable_from"`
	ReimbursableTo     Date           `db:"reimbursable_to"`
	HeadcountCaps      []HeadcountCap `db:"-"`
	Rules              []RoleRule     `db:"-"`
	// CommissionerCode is the commissioner whose local role this is; empty
	// for a national role.
	CommissionerCode OptionalCode `db:"commissioner_code"`
	// RetireTime is when the commissioner withdrew a local role's approval.
	RetireTime *time.Time `db:"retire_time"`
	Revision   int64      `db:"revision"`
	CreateTime time.Time  `db:"create_time"`
	UpdateTime time.Time  `db:"update_time"`
}

// HeadcountCap limits how many posts in a role one PCN may hold in a year.
type HeadcountCap struct {
	FinancialYear      FinancialYear `db:"financial_year"`
	MaxPosts           int32         `db:"max_posts"`
	LargeListThreshold int64         `db:"large_list_threshold"`
	MaxPostsLargeList  int32         `db:"max_posts_large_list"`
}

// Name is the resource name.
func (r Role) Name() string { return roleName(r.ID) }

func (r Role) validate(vs *Violations) { r.validateAs(vs, "role.", "role_id") }

// validateAs checks the role, naming its fields under f and its id idField:
// a local role's request names them differently.
func (r Role) validateAs(vs *Violations, f, idField string) {
	if !roleIDPattern.MatchString(r.ID) {
		vs.Add(idField, "ROLE_ID_FORMAT", "lower-case letters, digits and hyphens, 3 to 63 characters, for example occupational-therapist")
	}
	checkDisplayName(vs, f+"display_name", r.DisplayName)
	if !afcBandPattern.MatchString(r.AfCBand) {
		vs.Add(f+"afc_band", "AFC_BAND_FORMAT", "an Agenda for Change band is 1 to 9 or 8a to 8d, or empty")
	}
	switch r.Register {
	case RegisterHCPC:
		if !hcpcPrefixPattern.MatchString(r.RegistrationPrefix) {
			vs.Add(f+"registration_prefix", "HCPC_PREFIX_FORMAT", "HCPC roles name the 2 profession letters, for example OT")
		}
	case RegisterNone, RegisterNMC, RegisterGPhC, RegisterGMC:
		if r.RegistrationPrefix != "" {
			vs.Add(f+"registration_prefix", "PREFIX_HCPC_ONLY", "only HCPC roles have a registration prefix")
		}
	default:
		vs.Add(f+"register", "REQUIRED", "must be NONE, HCPC, NMC, GPHC or GMC")
	}
	if r.ReimbursableFrom.IsZero() {
		vs.Add(f+"reimbursable_from", "REQUIRED", "the first reimbursable day is required")
	}
	if !r.ReimbursableTo.IsZero() && r.ReimbursableTo.Before(r.ReimbursableFrom) {
		vs.Add(f+"reimbursable_to", "DATE_ORDER", "must not be before reimbursable_from")
	}
	validateRules(vs, f+"rules", r.Rules)
	years := map[FinancialYear]bool{}
	for i, c := range r.HeadcountCaps {
		field := fmt.Sprintf("%sheadcount_caps[%d]", f, i)
		switch {
		case c.FinancialYear == 0:
			vs.Add(field+".financial_year", "REQUIRED", "the financial year is required")
		case years[c.FinancialYear]:
			vs.Add(field+".financial_year", "DUPLICATE", "%s has two caps", c.FinancialYear)
		}
		years[c.FinancialYear] = true
		if c.MaxPosts < 0 {
			vs.Add(field+".max_posts", "NOT_NEGATIVE", "must not be negative")
		}
		if c.LargeListThreshold < 0 || c.MaxPostsLargeList < 0 {
			vs.Add(field+".large_list_threshold", "NOT_NEGATIVE", "the large-list rule must not be negative")
		}
		if c.LargeListThreshold == 0 && c.MaxPostsLargeList != 0 {
			vs.Add(field+".max_posts_large_list", "THRESHOLD_REQUIRED", "a large-list cap needs a large_list_threshold")
		}
	}
}

// CheckRegistration checks a staff member's registration number against the
// role's register.
func (r Role) CheckRegistration(number string) error {
	return CheckRegistration(r.Register, r.RegistrationPrefix, number)
}

const roleColumns = `id, display_name, afc_band, register, registration_prefix, reimbursable_from, reimbursable_to,
	commissioner_code, retire_time, revision, create_time, update_time`

// Local reports whether the role is a commissioner's local role.
func (r Role) Local() bool { return r.CommissionerCode != "" }

// GetRole reads one role with its headcount caps and rules. Another
// commissioner's local role is NOT_FOUND: its existence is that
// commissioner's business.
func (s *Store) GetRole(ctx context.Context, id string) (Role, error) {
	return snapshot(ctx, s, func(q sqlx.QueryerContext) (Role, error) { return getRole(ctx, q, roleName(id)) })
}

func getRole(ctx context.Context, q sqlx.QueryerContext, name string) (Role, error) {
	a := args{strings.TrimPrefix(name, "roles/")}
	return getRoleWhere(ctx, q, name, "id = $1 AND "+roleCondition(ctx, "commissioner_code", &a), a...)
}

// getRoleWhere reads the role the condition picks, with its caps and rules.
func getRoleWhere(ctx context.Context, q sqlx.QueryerContext, name, where string, a ...any) (Role, error) {
	var r Role
	if err := getOne(ctx, q, &r, name, `SELECT `+roleColumns+` FROM roles WHERE `+where, a...); err != nil {
		return r, err
	}
	rs := []Role{r}
	err := loadCaps(ctx, q, rs)
	return rs[0], err
}

// pcnRoles returns a SQL condition limiting col (a role's
// commissioner_code) to the roles pcn may take: national roles and its own
// commissioner's local roles.
func pcnRoles(col string, a *args, pcn string) string {
	return "(" + col + " IS NULL OR " + col + " = (SELECT commissioner_code FROM pcns WHERE code = " + a.add(pcn) + "))"
}

// roleCondition returns a SQL condition limiting col (a role's
// commissioner_code) to the roles the actor in ctx may see: national roles,
// and the local roles of the commissioner it is, or that commissions its
// PCN. NHS England and arrs itself see every one.
func roleCondition(ctx context.Context, col string, a *args) string {
	s := scopeOf(ctx)
	switch s.kind {
	case scopeAll:
		return "true"
	case scopePCN:
		return pcnRoles(col, a, s.code)
	case scopeCommissioner:
		return "(" + col + " IS NULL OR " + col + " = " + a.add(s.code) + ")"
	}
	return col + " IS NULL"
}

// loadCaps fills in the headcount caps and rules of every role, one query
// each.
func loadCaps(ctx context.Context, q sqlx.QueryerContext, roles []Role) error {
	type capRow struct {
		RoleID string `db:"role_id"`
		HeadcountCap
	}
	if err := loadRules(ctx, q, roles); err != nil {
		return err
	}
	return attach(ctx, q, roles, func(r Role) string { return r.ID },
		`SELECT role_id, financial_year, max_posts, large_list_threshold, max_posts_large_list
		FROM role_headcount_caps WHERE role_id = ANY($1) ORDER BY role_id, financial_year`,
		func(c capRow) string { return c.RoleID },
		func(r *Role, c capRow) { r.HeadcountCaps = append(r.HeadcountCaps, c.HeadcountCap) })
}

// ListRoles lists roles in id order.
func (s *Store) ListRoles(ctx context.Context, page Page) ([]Role, string, error) {
	return snapshotPage(ctx, s, func(q sqlx.QueryerContext) ([]Role, string, error) {
		var rows []Role
		a := args{strings.TrimPrefix(page.After, "roles/"), page.Size + 1}
		if err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+roleColumns+` FROM roles WHERE id > $1 AND `+
			roleCondition(ctx, "commissioner_code", &a)+` ORDER BY id LIMIT $2`, a...); err != nil {
			return nil, "", err
		}
		rows, next := pageOf(rows, page.Size)
		return rows, next, loadCaps(ctx, q, rows)
	})
}

// CreateRole validates and adds a role to the catalogue.
func (s *Store) CreateRole(ctx context.Context, req Request, r Role) (Role, error) {
	if err := requireNational(ctx); err != nil {
		return Role{}, err
	}
	var vs Violations
	r.validate(&vs)
	if err := vs.Err(); err != nil {
		return Role{}, err
	}
	// A local role is its commissioner's to approve, through CreateLocalRole.
	r.CommissionerCode, r.RetireTime = "", nil
	return once(ctx, s, req, func(tx *txn) (Role, string, error) {
		return s.insertRole(ctx, tx, r)
	}, getRole)
}

// insertRoleRow writes a new role's row, national or local, and reports
// whether it was new. Role ids are one namespace, national and local
// alike, since posts and rates name roles by id alone.
func insertRoleRow(ctx context.Context, tx *txn, r Role) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO roles (id, display_name, afc_band, register, registration_prefix,
			reimbursable_from, reimbursable_to, commissioner_code) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
		r.ID, r.DisplayName, r.AfCBand, r.Register, r.RegistrationPrefix, r.ReimbursableFrom, r.ReimbursableTo, r.CommissionerCode)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// insertRole writes a new role with its caps and rules, audited.
func (s *Store) insertRole(ctx context.Context, tx *txn, r Role) (Role, string, error) {
	if inserted, err := insertRoleRow(ctx, tx, r); err != nil {
		return Role{}, "", err
	} else if !inserted {
		return Role{}, "", AlreadyExists(r.Name(), r.Name()+" already exists")
	}
	if err := writeCaps(ctx, tx, r); err != nil {
		return Role{}, "", err
	}
	out, err := getRole(ctx, tx, r.Name())
	if err != nil {
		return out, "", err
	}
	return out, out.Name(), s.appendAudit(ctx, tx, out.Name(), "create", "", nil, out)
}

func writeCaps(ctx context.Context, tx *txn, r Role) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM role_headcount_caps WHERE role_id = $1`, r.ID); err != nil {
		return err
	}
	for _, c := range r.HeadcountCaps {
		if _, err := tx.ExecContext(ctx, `INSERT INTO role_headcount_caps (role_id, financial_year, max_posts,
			large_list_threshold, max_posts_large_list) VALUES ($1, $2, $3, $4, $5)`,
			r.ID, c.FinancialYear, c.MaxPosts, c.LargeListThreshold, c.MaxPostsLargeList); err != nil {
			return err
		}
	}
	return writeRules(ctx, tx, r)
}

// UpdateRole applies change to the stored role under an etag check.
func (s *Store) UpdateRole(ctx context.Context, id, etag string, change func(*Role)) (Role, error) {
	if err := requireNational(ctx); err != nil {
		return Role{}, err
	}
	return update(ctx, s, mutation[Role]{
		table: "roles", where: "id = $1", key: []any{id}, name: roleName(id), get: getRole,
		apply: func(_ *txn, cur Role, next *Role) error {
			if cur.Local() {
				return localRoleElsewhere(cur)
			}
			next.HeadcountCaps = slices.Clone(cur.HeadcountCaps)
			next.Rules = slices.Clone(cur.Rules)
			change(next)
			next.ID, next.CommissionerCode, next.RetireTime = cur.ID, cur.CommissionerCode, cur.RetireTime
			return validated(next.validate)
		},
		write: func(tx *txn, next Role) error {
			if _, err := tx.ExecContext(ctx, `UPDATE roles SET display_name = $2, afc_band = $3, register = $4,
				registration_prefix = $5, reimbursable_from = $6, reimbursable_to = $7, revision = revision + 1,
				update_time = now() WHERE id = $1`, id, next.DisplayName, next.AfCBand, next.Register,
				next.RegistrationPrefix, next.ReimbursableFrom, next.ReimbursableTo); err != nil {
				return err
			}
			return writeCaps(ctx, tx, next)
		},
	}, etag)
}

// Rate is a role's maximum annual reimbursement at 1.0 WTE, including
// on-costs, from EffectiveDate until the role's next rate takes effect.
type Rate struct {
	RoleID        string `db:"role_id"`
	EffectiveDate Date   `db:"effective_date"`
	NationalPence int64  `db:"national_max_pence"`
	// OuterLondonPence and InnerLondonPence are nil when the national
	// maximum applies in that zone too.
	OuterLondonPence *int64    `db:"outer_london_max_pence"`
	InnerLondonPence *int64    `db:"inner_london_max_pence"`
	Source           string    `db:"source"`
	Illustrative     bool      `db:"illustrative"`
	Revision         int64     `db:"revision"`
	CreateTime       time.Time `db:"create_time"`
	UpdateTime       time.Time `db:"update_time"`
}

// Name is the resource name.
func (r Rate) Name() string { return rateName(r.RoleID, r.EffectiveDate) }

// MaxPence is the annual maximum in zone.
func (r Rate) MaxPence(zone WeightingZone) int64 {
	switch {
	case zone == ZoneOuterLondon && r.OuterLondonPence != nil:
		return *r.OuterLondonPence
	case zone == ZoneInnerLondon && r.InnerLondonPence != nil:
		return *r.InnerLondonPence
	}
	return r.NationalPence
}

// maxAnnualPence bounds a rate: more than £1m a year is a typing error.
const maxAnnualPence = 100_000_000

func (r Rate) validate(vs *Violations) {
	const f = "rate."
	if r.EffectiveDate.IsZero() {
		vs.Add(f+"effective_date", "REQUIRED", "the first day the rate applies is required")
	}
	check := func(field string, v *int64) {
		if v != nil && (*v <= 0 || *v > maxAnnualPence) {
			vs.Add(f+field, "AMOUNT_RANGE", "must be more than 0 and at most 100000000 pence (£1m)")
		}
	}
	check("national_max_pence", &r.NationalPence)
	check("outer_london_max_pence", r.OuterLondonPence)
	check("inner_london_max_pence", r.InnerLondonPence)
	if len(r.Source) > 500 {
		vs.Add(f+"source", "LENGTH", "at most 500 characters")
	}
}

const rateColumns = `role_id, effective_date, national_max_pence, outer_london_max_pence, inner_london_max_pence,
	source, illustrative, revision, create_time, update_time`

// GetRate reads one rate.
func (s *Store) GetRate(ctx context.Context, roleID string, effective Date) (Rate, error) {
	return getRate(ctx, s.db, rateName(roleID, effective))
}

func getRate(ctx context.Context, q sqlx.QueryerContext, name string) (Rate, error) {
	var r Rate
	role, date, err := ParseRateName("name", name)
	if err != nil {
		return r, err
	}
	a := args{role, date}
	err = getOne(ctx, q, &r, name, `SELECT `+rateColumns+` FROM rates WHERE role_id = $1 AND effective_date = $2
		AND role_id IN (SELECT id FROM roles WHERE `+roleCondition(ctx, "commissioner_code", &a)+`)`, a...)
	return r, err
}

// ListRates lists one role's rates (or every role's when roleID is empty) in
// role then effective-date order.
func (s *Store) ListRates(ctx context.Context, roleID string, page Page) ([]Rate, string, error) {
	afterRole, afterDate := "", NewDate(1, 1, 1)
	if page.After != "" {
		var err error
		if afterRole, afterDate, err = ParseRateName("page_token", page.After); err != nil {
			return nil, "", err
		}
	}
	var rows []Rate
	a := args{afterRole, afterDate, roleID, page.Size + 1}
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+rateColumns+` FROM rates
		WHERE (role_id, effective_date) > ($1, $2) AND ($3 = '' OR role_id = $3)
		AND role_id IN (SELECT id FROM roles WHERE `+roleCondition(ctx, "commissioner_code", &a)+`)
		ORDER BY role_id, effective_date LIMIT $4`, a...); err != nil {
		return nil, "", err
	}
	rows, next := pageOf(rows, page.Size)
	return rows, next, nil
}

// CreateRate records a rate for a role. The effective date may be in the past:
// pay awards are often published after they take effect.
func (s *Store) CreateRate(ctx context.Context, req Request, r Rate) (Rate, error) {
	if err := requireNational(ctx); err != nil {
		return Rate{}, err
	}
	var vs Violations
	r.validate(&vs)
	if err := vs.Err(); err != nil {
		return Rate{}, err
	}
	return once(ctx, s, req, func(tx *txn) (Rate, string, error) {
		role, err := getRole(ctx, tx, roleName(r.RoleID))
		if err != nil {
			return Rate{}, "", err
		}
		if role.Local() {
			return Rate{}, "", localRoleElsewhere(role)
		}
		var out Rate
		err = tx.GetContext(ctx, &out, `INSERT INTO rates (role_id, effective_date, national_max_pence,
			outer_london_max_pence, inner_london_max_pence, source, illustrative) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (role_id, effective_date) DO NOTHING RETURNING `+rateColumns,
			r.RoleID, r.EffectiveDate, r.NationalPence, r.OuterLondonPence, r.InnerLondonPence, r.Source, r.Illustrative)
		if isNoRows(err) {
			return out, "", AlreadyExists(r.Name(), r.Name()+" already exists; update it to correct its amounts")
		}
		if err != nil {
			return out, "", err
		}
		if err := s.offerSupplementaryClaims(ctx, tx, out.RoleID, out.EffectiveDate); err != nil {
			return out, "", err
		}
		return out, out.Name(), s.appendAudit(ctx, tx, out.Name(), "create", "", nil, out)
	}, getRate)
}

// UpdateRate applies change to a stored rate under an etag check. The role
// and effective date are its identity and cannot change.
func (s *Store) UpdateRate(ctx context.Context, roleID string, effective Date, etag string, change func(*Rate)) (Rate, error) {
	if err := requireNational(ctx); err != nil {
		return Rate{}, err
	}
	return update(ctx, s, mutation[Rate]{
		table: "rates", where: "role_id = $1 AND effective_date = $2", key: []any{roleID, effective},
		name: rateName(roleID, effective), get: getRate,
		apply: func(tx *txn, cur Rate, next *Rate) error {
			role, err := getRole(ctx, tx, roleName(cur.RoleID))
			if err != nil {
				return err
			}
			if role.Local() {
				return localRoleElsewhere(role)
			}
			change(next)
			next.RoleID, next.EffectiveDate = cur.RoleID, cur.EffectiveDate
			return validated(next.validate)
		},
		write: func(tx *txn, next Rate) error {
			if _, err := tx.ExecContext(ctx, `UPDATE rates SET national_max_pence = $3, outer_london_max_pence = $4,
				inner_london_max_pence = $5, source = $6, illustrative = $7, revision = revision + 1, update_time = now()
				WHERE role_id = $1 AND effective_date = $2`,
				roleID, effective, next.NationalPence, next.OuterLondonPence, next.InnerLondonPence, next.Source, next.Illustrative); err != nil {
				return err
			}
			return s.offerSupplementaryClaims(ctx, tx, roleID, effective)
		},
	}, etag)
}
