package cpd

import (
	"context"

	"github.com/jmoiron/sqlx"

	"arrs.nhs.uk/arrs/claims"
)

// maxCostPence bounds any one cost (£1,000,000): far above any course, and
// far below overflow when summed.
const maxCostPence = 100_000_000

func (c Course) validate(vs *claims.Violations) {
	checkOptionalID(vs, "cpd_course_id", c.ID)
	checkText(vs, "course.title", c.Title, 1, 200)
	checkText(vs, "course.topic", c.Topic, 1, 100)
	checkText(vs, "course.provider", c.Provider, 1, 200)
	checkDates(vs, "course", c.StartDate, c.EndDate)
	if c.Places < 1 || c.Places > 1000 {
		vs.Add("course.places", "PLACES_RANGE", "must be 1 to 1000 places")
	}
	if c.CostPerPlacePence <= 0 || c.CostPerPlacePence > maxCostPence {
		vs.Add("course.cost_per_place_pence", "AMOUNT_RANGE", "must be more than 0 and at most 100000000 pence")
	}
}

// CreateCourse commissions a course for the officer's own hub: places and
// a cost per place, which allocating a place charges to a request.
func (s *Store) CreateCourse(ctx context.Context, req claims.Request, c Course) (Course, error) {
	if err := claims.RequireRole(ctx, "commission courses", claims.RoleTrainingHubOfficer); err != nil {
		return Course{}, err
	}
	if err := validated(c.validate); err != nil {
		return Course{}, err
	}
	return once(ctx, s, req, func(tx *sqlx.Tx) (Course, string, error) {
		if _, err := s.getHub(ctx, tx, HubName(c.Hub)); err != nil {
			return Course{}, "", err
		}
		var err error
		if c.ID, err = idOr(c.ID); err != nil {
			return Course{}, "", err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cpd_courses (hub_id, id, title, topic, provider, start_date,
			end_date, places, cost_per_place_pence) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			c.Hub, c.ID, c.Title, c.Topic, c.Provider, c.StartDate, c.EndDate, c.Places, c.CostPerPlacePence); err != nil {
			return Course{}, "", err
		}
		out, err := s.getCourse(ctx, tx, c.Name())
		if err != nil {
			return Course{}, "", err
		}
		return out, out.Name(), s.cs.AppendAudit(ctx, tx, claims.AuditRecord{Resource: out.Name(), Action: "create", After: out})
	}, s.getCourse)
}

const courseColumns = `hub_id, id, title, topic, provider, start_date, end_date, places, cost_per_place_pence,
	places_allocated, revision, create_time, update_time`

// GetCourse returns a course of a hub the caller may see.
func (s *Store) GetCourse(ctx context.Context, name string) (Course, error) {
	return s.getCourse(ctx, s.db, name)
}

func (s *Store) getCourse(ctx context.Context, q sqlx.QueryerContext, name string) (Course, error) {
	hub, id, err := ParseCourseName("name", name)
	if err != nil {
		return Course{}, err
	}
	a := args{hub, id}
	var c Course
	err = claims.GetOne(ctx, q, &c, name, `SELECT `+courseColumns+` FROM cpd_courses WHERE hub_id = $1 AND id = $2 AND `+
		s.hubCondition(ctx, "hub_id", &a), a...)
	return c, err
}

// ListCourses lists a hub's courses, oldest first.
func (s *Store) ListCourses(ctx context.Context, hub string, page claims.Page) ([]Course, string, error) {
	a := args{page.After, page.Size + 1, hub}
	var rows []Course
	if err := sqlx.SelectContext(ctx, s.db, &rows, `SELECT `+courseColumns+` FROM cpd_courses
		WHERE 'trainingHubs/' || hub_id || '/courses/' || id > $1 AND hub_id = $3 AND `+
		s.hubCondition(ctx, "hub_id", &a)+` ORDER BY id LIMIT $2`, a...); err != nil {
		return nil, "", err
	}
	out, next := claims.PageOf(rows, page.Size)
	return out, next, nil
}
