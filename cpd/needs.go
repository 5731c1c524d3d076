package cpd

import (
	"context"
	"slices"

	"github.com/jmoiron/sqlx"

	"arrs.nhs.uk/arrs/claims"
)

func (n Need) validate(vs *claims.Violations) {
	checkOptionalID(vs, "cpd_need_id", n.ID)
	checkText(vs, "cpd_need.professional", n.Professional, 1, 200)
	if !slices.Contains(StaffGroups, n.StaffGroup) {
		vs.Add("cpd_need.staff_group", "STAFF_GROUP", "the professional must be a registered nurse or an allied health professional")
	}
	if n.AppraisalDate.IsZero() {
		vs.Add("cpd_need.appraisal_date", "REQUIRED", "the date of the appraisal the need came from is required")
	}
	checkText(vs, "cpd_need.need", n.Need, 1, 2000)
	checkText(vs, "cpd_need.topic", n.Topic, 1, 100)
	checkText(vs, "cpd_need.preferred_course", n.PreferredCourse, 0, 200)
}

// CreateNeed records a professional's CPD need from their appraisal, for
// the practice manager's own practice.
func (s *Store) CreateNeed(ctx context.Context, req claims.Request, n Need) (Need, error) {
	if err := claims.RequireRole(ctx, "record CPD needs", claims.RolePracticeManager); err != nil {
		return Need{}, err
	}
	var vs claims.Violations
	n.validate(&vs)
	if !n.AppraisalDate.IsZero() && n.AppraisalDate.After(s.cs.Today()) {
		vs.Add("cpd_need.appraisal_date", "IN_FUTURE", "the appraisal cannot be after today")
	}
	if err := vs.Err(); err != nil {
		return Need{}, err
	}
	return once(ctx, s, req, func(tx *sqlx.Tx) (Need, string, error) {
		pcn, err := s.visiblePractice(ctx, tx, n.ODSCode)
		if err != nil {
			return Need{}, "", err
		}
		if n.ID, err = idOr(n.ID); err != nil {
			return Need{}, "", err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cpd_needs (ods_code, id, professional, staff_group,
			appraisal_date, need, topic, preferred_course) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			n.ODSCode, n.ID, n.Professional, n.StaffGroup, n.AppraisalDate, n.Need, n.Topic, n.PreferredCourse); err != nil {
			return Need{}, "", err
		}
		out, err := s.getNeed(ctx, tx, n.Name())
		if err != nil {
			return Need{}, "", err
		}
		return out, out.Name(), s.cs.AppendAudit(ctx, tx, claims.AuditRecord{Resource: out.Name(), Action: "create", PCNCode: pcn, After: out})
	}, s.getNeed)
}

// visiblePractice returns NOT_FOUND unless ods is a PCN member practice the
// caller may see, and otherwise its PCN, for the audit trail.
func (s *Store) visiblePractice(ctx context.Context, q sqlx.QueryerContext, ods string) (string, error) {
	a := args{ods}
	var pcn []string
	if err := sqlx.SelectContext(ctx, q, &pcn, `SELECT pcn_code FROM pcn_practices WHERE ods_code = $1 AND `+
		s.practiceCondition(ctx, "ods_code", &a), a...); err != nil {
		return "", err
	}
	if len(pcn) == 0 {
		return "", claims.NotFound(PracticeName(ods))
	}
	return pcn[0], nil
}

const needColumns = `ods_code, id, professional, staff_group, appraisal_date, need, topic, preferred_course,
	revision, create_time, update_time`

// GetNeed returns a need the caller may see.
func (s *Store) GetNeed(ctx context.Context, name string) (Need, error) {
	return s.getNeed(ctx, s.db, name)
}

func (s *Store) getNeed(ctx context.Context, q sqlx.QueryerContext, name string) (Need, error) {
	ods, id, err := ParseNeedName("name", name)
	if err != nil {
		return Need{}, err
	}
	a := args{ods, id}
	var n Need
	if err := claims.GetOne(ctx, q, &n, name, `SELECT `+needColumns+` FROM cpd_needs WHERE ods_code = $1 AND id = $2 AND `+
		s.practiceCondition(ctx, "ods_code", &a), a...); err != nil {
		return Need{}, err
	}
	n.Stale = IsStale(n.AppraisalDate, s.cs.Today())
	return n, nil
}

// ListNeeds lists one practice's needs ("-": every practice the caller
// may see), oldest first.
func (s *Store) ListNeeds(ctx context.Context, ods string, page claims.Page) ([]Need, string, error) {
	a := args{page.After, page.Size + 1}
	where := s.practiceCondition(ctx, "ods_code", &a)
	if ods != "-" {
		where += " AND ods_code = " + a.add(ods)
	}
	var rows []Need
	if err := sqlx.SelectContext(ctx, s.db, &rows, `SELECT `+needColumns+` FROM cpd_needs
		WHERE 'practices/' || ods_code || '/cpdNeeds/' || id > $1 AND `+where+` ORDER BY ods_code, id LIMIT $2`, a...); err != nil {
		return nil, "", err
	}
	today := s.cs.Today()
	for i := range rows {
		rows[i].Stale = IsStale(rows[i].AppraisalDate, today)
	}
	out, next := claims.PageOf(rows, page.Size)
	return out, next, nil
}
