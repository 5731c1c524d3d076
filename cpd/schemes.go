package cpd

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"arrs.nhs.uk/arrs/claims"
)

// schemeRow is a cpd_schemes row.
type schemeRow struct {
	ID          string               `db:"id"`
	DisplayName string               `db:"display_name"`
	FirstYear   claims.FinancialYear `db:"first_year"`
	Years       int                  `db:"years"`
	Basis       AmountBasis          `db:"amount_basis"`
	Amount      int64                `db:"amount_per_head_pence"`
	Groups      pq.StringArray       `db:"staff_groups"`
	EndDate     claims.Date          `db:"end_date"`
	Revision    int64                `db:"revision"`
	CreateTime  time.Time            `db:"create_time"`
	UpdateTime  time.Time            `db:"update_time"`
}

func (r schemeRow) scheme() Scheme {
	s := Scheme{ID: r.ID, DisplayName: r.DisplayName, FirstYear: r.FirstYear, Years: r.Years, Basis: r.Basis,
		AmountPerHeadPence: r.Amount, EndDate: r.EndDate, Revision: r.Revision,
		CreateTime: r.CreateTime, UpdateTime: r.UpdateTime}
	for _, g := range r.Groups {
		s.StaffGroups = append(s.StaffGroups, StaffGroup(g))
	}
	return s
}

const schemeColumns = `id, display_name, first_year, years, amount_basis, amount_per_head_pence, staff_groups,
	end_date, revision, create_time, update_time`

// CreateScheme defines a CPD scheme. National administrators only.
func (s *Store) CreateScheme(ctx context.Context, req claims.Request, sc Scheme) (Scheme, error) {
	if err := claims.RequireRole(ctx, "define a CPD scheme", claims.RoleNationalAdministrator); err != nil {
		return Scheme{}, err
	}
	if err := validated(sc.validate); err != nil {
		return Scheme{}, err
	}
	groups := make([]string, len(sc.StaffGroups))
	for i, g := range sc.StaffGroups {
		groups[i] = string(g)
	}
	return once(ctx, s, req, func(tx *sqlx.Tx) (Scheme, string, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO cpd_schemes (id, display_name, first_year, years, amount_basis,
			amount_per_head_pence, staff_groups, end_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			sc.ID, sc.DisplayName, sc.FirstYear, sc.Years, sc.Basis, sc.AmountPerHeadPence, pq.StringArray(groups), sc.EndDate); err != nil {
			return Scheme{}, "", err
		}
		out, err := s.getScheme(ctx, tx, sc.Name())
		if err != nil {
			return Scheme{}, "", err
		}
		return out, out.Name(), s.cs.AppendAudit(ctx, tx, claims.AuditRecord{Resource: out.Name(), Action: "create", After: out})
	}, s.getScheme)
}

// GetScheme returns a scheme: reference data, which every caller reads.
func (s *Store) GetScheme(ctx context.Context, name string) (Scheme, error) {
	return claims.Snapshot(ctx, s.cs, func(q sqlx.QueryerContext) (Scheme, error) { return s.getScheme(ctx, q, name) })
}

func (s *Store) getScheme(ctx context.Context, q sqlx.QueryerContext, name string) (Scheme, error) {
	id, err := ParseSchemeName("name", name)
	if err != nil {
		return Scheme{}, err
	}
	var r schemeRow
	if err := claims.GetOne(ctx, q, &r, name, `SELECT `+schemeColumns+` FROM cpd_schemes WHERE id = $1`, id); err != nil {
		return Scheme{}, err
	}
	return r.scheme(), nil
}

// ListSchemes lists schemes by id.
func (s *Store) ListSchemes(ctx context.Context, page claims.Page) ([]Scheme, string, error) {
	var rows []schemeRow
	if err := sqlx.SelectContext(ctx, s.db, &rows, `SELECT `+schemeColumns+` FROM cpd_schemes
		WHERE 'cpdSchemes/' || id > $1 ORDER BY id LIMIT $2`, page.After, page.Size+1); err != nil {
		return nil, "", err
	}
	out := make([]Scheme, len(rows))
	for i, r := range rows {
		out[i] = r.scheme()
	}
	rest, next := claims.PageOf(out, page.Size)
	return rest, next, nil
}

// CreateBaseline loads a practice's eligible headcount for a scheme and
// computes its allocation for each scheme year (Scheme.Allocations).
// National administrators only.
func (s *Store) CreateBaseline(ctx context.Context, req claims.Request, b Baseline) (Baseline, []Allocation, error) {
	if err := claims.RequireRole(ctx, "load a CPD baseline", claims.RoleNationalAdministrator); err != nil {
		return Baseline{}, nil, err
	}
	var vs claims.Violations
	if !claims.ValidPracticeCode(b.ODSCode) {
		vs.Add("cpd_baseline_id", "PRACTICE_CODE_FORMAT", "must be the practice's ODS code: a letter and 5 digits")
	}
	if b.EligibleHeadcount < 0 || b.EligibleHeadcount > 10000 {
		vs.Add("cpd_baseline.eligible_headcount", "HEADCOUNT_RANGE", "must be 0 to 10000 people")
	}
	if err := vs.Err(); err != nil {
		return Baseline{}, nil, err
	}
	out, err := once(ctx, s, req, func(tx *sqlx.Tx) (Baseline, string, error) {
		sc, err := s.getScheme(ctx, tx, SchemeName(b.Scheme))
		if err != nil {
			return Baseline{}, "", err
		}
		// The practice's PCN is also the audit chain its baseline joins.
		pcn, err := pcnOf(ctx, tx, b.ODSCode)
		if err != nil {
			return Baseline{}, "", err
		} else if pcn == "" {
			return Baseline{}, "", claims.Invalid("cpd_baseline_id", "PRACTICE_UNKNOWN", "%s is not a member practice of any PCN", b.ODSCode)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cpd_baselines (scheme_id, ods_code, eligible_headcount)
			VALUES ($1, $2, $3)`, b.Scheme, b.ODSCode, b.EligibleHeadcount); err != nil {
			return Baseline{}, "", err
		}
		allocs := sc.Allocations(b.EligibleHeadcount)
		for _, al := range allocs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO cpd_allocations (scheme_id, ods_code, financial_year, amount_pence)
				VALUES ($1, $2, $3, $4)`, b.Scheme, b.ODSCode, al.Year, al.AmountPence); err != nil {
				return Baseline{}, "", err
			}
		}
		got, err := s.getBaseline(ctx, tx, b.Name())
		if err != nil {
			return Baseline{}, "", err
		}
		type audited struct {
			Baseline
			Allocations []Allocation
		}
		return got, got.Name(), s.cs.AppendAudit(ctx, tx, claims.AuditRecord{Resource: got.Name(), Action: "create",
			PCNCode: pcn, After: audited{got, allocsFor(allocs, b.ODSCode)}})
	}, s.getBaseline)
	if err != nil {
		return Baseline{}, nil, err
	}
	allocs, _, err := s.ListAllocations(ctx, b.ODSCode, claims.Page{Size: 100}, b.Scheme)
	return out, allocs, err
}

// UpdateBaseline corrects a practice's eligible headcount and recomputes
// its allocations. An allocation cannot fall below what is already
// committed from it (FAILED_PRECONDITION, INSUFFICIENT_BALANCE), so a
// correction never leaves a negative balance. National administrators only.
func (s *Store) UpdateBaseline(ctx context.Context, b Baseline, etag string) (Baseline, []Allocation, error) {
	if err := claims.RequireRole(ctx, "correct a CPD baseline", claims.RoleNationalAdministrator); err != nil {
		return Baseline{}, nil, err
	}
	if b.EligibleHeadcount < 0 || b.EligibleHeadcount > 10000 {
		return Baseline{}, nil, claims.Invalid("cpd_baseline.eligible_headcount", "HEADCOUNT_RANGE", "must be 0 to 10000 people")
	}
	var out Baseline
	err := s.cs.WithTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := s.lockRow(ctx, tx, b.Name(), etag, "cpd_baselines", "scheme_id = $1 AND ods_code = $2", "ods_code", false,
			b.Scheme, b.ODSCode); err != nil {
			return err
		}
		cur, err := s.getBaseline(ctx, tx, b.Name())
		if err != nil {
			return err
		}
		sc, err := s.getScheme(ctx, tx, SchemeName(b.Scheme))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cpd_baselines SET eligible_headcount = $3, revision = revision + 1,
			update_time = now() WHERE scheme_id = $1 AND ods_code = $2`, b.Scheme, b.ODSCode, b.EligibleHeadcount); err != nil {
			return err
		}
		// Row by row under the allocations' own locks: the CHECK refuses
		// an amount below what approvals have committed.
		for _, al := range sc.Allocations(b.EligibleHeadcount) {
			if _, err := tx.ExecContext(ctx, `UPDATE cpd_allocations SET amount_pence = $4
				WHERE scheme_id = $1 AND ods_code = $2 AND financial_year = $3`, b.Scheme, b.ODSCode, al.Year, al.AmountPence); err != nil {
				return dbError(err)
			}
		}
		if out, err = s.getBaseline(ctx, tx, b.Name()); err != nil {
			return err
		}
		pcn, err := pcnOf(ctx, tx, b.ODSCode)
		if err != nil {
			return err
		}
		return s.cs.AppendAudit(ctx, tx, claims.AuditRecord{Resource: out.Name(), Action: "update", PCNCode: pcn, Before: cur, After: out})
	})
	if err != nil {
		return Baseline{}, nil, err
	}
	allocs, _, err := s.ListAllocations(ctx, b.ODSCode, claims.Page{Size: 100}, b.Scheme)
	return out, allocs, err
}

func allocsFor(allocs []Allocation, ods string) []Allocation {
	for i := range allocs {
		allocs[i].ODSCode = ods
	}
	return allocs
}

func (s *Store) getBaseline(ctx context.Context, q sqlx.QueryerContext, name string) (Baseline, error) {
	ids, err := split("name", name, "cpdSchemes/*/baselines/*")
	if err != nil {
		return Baseline{}, err
	}
	var b Baseline
	err = claims.GetOne(ctx, q, &b, name, `SELECT scheme_id, ods_code, eligible_headcount, revision, create_time, update_time
		FROM cpd_baselines WHERE scheme_id = $1 AND ods_code = $2`, ids[0], ids[1])
	return b, err
}

// ListAllocations lists each scheme year's allocation, committed, paid and
// remaining for one practice, or for "-" every practice the caller may see
// (a hub officer: the practices the hub serves), optionally of one scheme.
func (s *Store) ListAllocations(ctx context.Context, ods string, page claims.Page, scheme string) ([]Allocation, string, error) {
	a := args{page.After, page.Size + 1}
	where := s.practiceCondition(ctx, "ods_code", &a)
	if ods != "-" {
		where += " AND ods_code = " + a.add(ods)
	}
	if scheme != "" {
		where += " AND scheme_id = " + a.add(scheme)
	}
	var rows []Allocation
	if err := sqlx.SelectContext(ctx, s.db, &rows, fmt.Sprintf(`SELECT scheme_id, ods_code, financial_year,
			amount_pence, committed_pence, paid_pence FROM cpd_allocations
		WHERE %[1]s > $1 AND %[2]s ORDER BY %[1]s LIMIT $2`, allocationKey, where), a...); err != nil {
		return nil, "", err
	}
	out, next := claims.PageOf(rows, page.Size)
	return out, next, nil
}

// allocationKey is the SQL for an allocation's resource name, the order
// listings page in.
const allocationKey = `('practices/' || ods_code || '/cpdAllocations/' || scheme_id || '.' || financial_year)`

// validated runs a validate method and returns its violations as an error.
func validated(validate func(*claims.Violations)) error {
	var vs claims.Violations
	validate(&vs)
	return vs.Err()
}
