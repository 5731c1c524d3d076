package cpd

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"

	"arrs.nhs.uk/arrs/claims"
)

// requestRow is a cpd_requests row with its need's professional.
type requestRow struct {
	ODSCode      string               `db:"ods_code"`
	ID           string               `db:"id"`
	NeedID       string               `db:"need_id"`
	Professional string               `db:"professional"`
	Scheme       string               `db:"scheme_id"`
	Year         claims.FinancialYear `db:"financial_year"`
	Category     Category             `db:"category"`
	Provider     string               `db:"provider"`
	CourseTitle  string               `db:"course_title"`
	StartDate    claims.Date          `db:"start_date"`
	EndDate      claims.Date          `db:"end_date"`
	Cost         int64                `db:"cost_pence"`
	Funded       int64                `db:"funded_pence"`
	Paid         int64                `db:"paid_pence"`
	State        State                `db:"state"`
	Reason       string               `db:"rejection_reason"`
	PaymentDate  claims.Date          `db:"payment_date"`
	PaymentRef   string               `db:"payment_reference"`
	CourseHub    sql.NullString       `db:"course_hub_id"`
	CourseID     sql.NullString       `db:"course_id"`
	Revision     int64                `db:"revision"`
	CreateTime   time.Time            `db:"create_time"`
	UpdateTime   time.Time            `db:"update_time"`
}

func (r requestRow) request() Request {
	out := Request{ODSCode: r.ODSCode, ID: r.ID, Need: NeedName(r.ODSCode, r.NeedID), Professional: r.Professional,
		Scheme: r.Scheme, Year: r.Year, Category: r.Category, Provider: r.Provider, CourseTitle: r.CourseTitle,
		StartDate: r.StartDate, EndDate: r.EndDate, CostPence: r.Cost, FundedPence: r.Funded, PaidPence: r.Paid,
		State: r.State, RejectionReason: r.Reason, PaymentDate: r.PaymentDate, PaymentReference: r.PaymentRef, Revision: r.Revision, CreateTime: r.CreateTime, UpdateTime: r.UpdateTime}
	if r.CourseID.Valid {
		out.Course = CourseName(r.CourseHub.String, r.CourseID.String)
	}
	return out
}

const requestColumns = `r.ods_code, r.id, r.need_id, n.professional, r.scheme_id, r.financial_year, r.category,
	r.provider, r.course_title, r.start_date, r.end_date, r.cost_pence, r.funded_pence, r.paid_pence, r.state,
	r.rejection_reason, r.payment_date, r.payment_reference, r.course_hub_id, r.course_id, r.revision, r.create_time, r.update_time`

const requestFrom = ` FROM cpd_requests r JOIN cpd_needs n ON n.ods_code = r.ods_code AND n.id = r.need_id`

// CreateRequest asks the hub to fund a professional's CPD, meeting one of
// their recorded needs. A category the fund does not pay for, and anything
// dated past the scheme's end, is refused with the reason.
func (s *Store) CreateRequest(ctx context.Context, req claims.Request, r Request) (Request, error) {
	if err := claims.RequireRole(ctx, "request CPD funding", claims.RolePracticeManager); err != nil {
		return Request{}, err
	}
	var vs claims.Violations
	needODS, needID, err := ParseNeedName("cpd_request.need", r.Need)
	switch {
	case r.Need == "":
		vs.Add("cpd_request.need", "REQUIRED", "name the need from the professional's appraisal that this meets")
	case err != nil:
		vs.Take(err)
	case needODS != r.ODSCode:
		vs.Add("cpd_request.need", "NEED_OF_ANOTHER_PRACTICE", "the need must be one of this practice's")
	}
	if r.Scheme == "" {
		vs.Add("cpd_request.scheme", "REQUIRED", "name the CPD scheme that funds the request")
	}
	checkOptionalID(&vs, "cpd_request_id", r.ID)
	checkCategory(&vs, "cpd_request.category", r.Category)
	checkText(&vs, "cpd_request.provider", r.Provider, 1, 200)
	checkText(&vs, "cpd_request.course_title", r.CourseTitle, 1, 200)
	checkDates(&vs, "cpd_request", r.StartDate, r.EndDate)
	if r.CostPence <= 0 || r.CostPence > maxCostPence {
		vs.Add("cpd_request.cost_pence", "AMOUNT_RANGE", "must be more than 0 and at most 100000000 pence")
	}
	if err := vs.Err(); err != nil {
		return Request{}, err
	}
	return once(ctx, s, req, func(tx *sqlx.Tx) (Request, string, error) {
		pcn, err := s.visiblePractice(ctx, tx, r.ODSCode)
		if err != nil {
			return Request{}, "", err
		}
		if _, err := s.getNeed(ctx, tx, NeedName(needODS, needID)); err != nil {
			return Request{}, "", err
		}
		sc, err := s.getScheme(ctx, tx, SchemeName(r.Scheme))
		if err != nil {
			return Request{}, "", err
		}
		checkWithinScheme(&vs, "cpd_request", sc, r.StartDate, r.EndDate)
		if err := vs.Err(); err != nil {
			return Request{}, "", err
		}
		r.Year = claims.FinancialYearOf(r.StartDate)
		if err := hasAllocation(ctx, tx, sc.ID, r.ODSCode, r.Year); err != nil {
			return Request{}, "", err
		}
		if r.ID, err = idOr(r.ID); err != nil {
			return Request{}, "", err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cpd_requests (ods_code, id, need_id, scheme_id, financial_year,
			category, provider, course_title, start_date, end_date, cost_pence)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			r.ODSCode, r.ID, needID, sc.ID, r.Year, r.Category, r.Provider, r.CourseTitle, r.StartDate, r.EndDate, r.CostPence); err != nil {
			return Request{}, "", err
		}
		out, err := s.getRequest(ctx, tx, r.Name())
		if err != nil {
			return Request{}, "", err
		}
		return out, out.Name(), s.cs.AppendAudit(ctx, tx, claims.AuditRecord{Resource: out.Name(), Action: "create", PCNCode: pcn, After: out})
	}, s.getRequest)
}

func hasAllocation(ctx context.Context, q sqlx.QueryerContext, scheme, ods string, y claims.FinancialYear) error {
	var ok bool
	if err := sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM cpd_allocations
		WHERE scheme_id = $1 AND ods_code = $2 AND financial_year = $3)`, scheme, ods, y); err != nil {
		return err
	}
	if !ok {
		return claims.FailedPrecondition(AllocationName(ods, scheme, y), "NO_ALLOCATION",
			"the practice has no allocation from "+SchemeName(scheme)+" for "+y.String()+": its baseline is not loaded")
	}
	return nil
}

// GetRequest returns a request the caller may see.
func (s *Store) GetRequest(ctx context.Context, name string) (Request, error) {
	return s.getRequest(ctx, s.db, name)
}

func (s *Store) getRequest(ctx context.Context, q sqlx.QueryerContext, name string) (Request, error) {
	ods, id, err := ParseRequestName("name", name)
	if err != nil {
		return Request{}, err
	}
	a := args{ods, id}
	var r requestRow
	if err := claims.GetOne(ctx, q, &r, name, `SELECT `+requestColumns+requestFrom+` WHERE r.ods_code = $1 AND r.id = $2 AND `+
		s.practiceCondition(ctx, "r.ods_code", &a), a...); err != nil {
		return Request{}, err
	}
	return r.request(), nil
}

// ListRequests lists one practice's requests ("-": every practice the
// caller may see), oldest first, optionally in one state.
func (s *Store) ListRequests(ctx context.Context, ods string, state State, page claims.Page) ([]Request, string, error) {
	a := args{page.After, page.Size + 1}
	where := s.practiceCondition(ctx, "r.ods_code", &a)
	if ods != "-" {
		where += " AND r.ods_code = " + a.add(ods)
	}
	if state != "" {
		where += " AND r.state = " + a.add(state)
	}
	var rows []requestRow
	if err := sqlx.SelectContext(ctx, s.db, &rows, `SELECT `+requestColumns+requestFrom+`
		WHERE 'practices/' || r.ods_code || '/cpdRequests/' || r.id > $1 AND `+where+`
		ORDER BY r.ods_code, r.id LIMIT $2`, a...); err != nil {
		return nil, "", err
	}
	out := make([]Request, len(rows))
	for i, r := range rows {
		out[i] = r.request()
	}
	rest, next := claims.PageOf(out, page.Size)
	return rest, next, nil
}
