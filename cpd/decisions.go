package cpd

import (
	"context"
	"strings"

	"github.com/jmoiron/sqlx"

	"arrs.nhs.uk/arrs/claims"
)

// decide runs one hub decision on a request, in one transaction: lock the
// request (within the hub's practices) and check its etag, move its state
// through transitions, let apply change it (and lock and change what else
// it touches: the allocation, a course), write it and audit every change.
// Locks are always taken request first, then allocation or course, so two
// decisions cannot deadlock. A request_id makes it idempotent.
func (s *Store) decide(ctx context.Context, req claims.Request, name, etag string, a action,
	apply func(tx *sqlx.Tx, cur Request, next *Request) ([]claims.AuditRecord, error),
) (Request, error) {
	if err := claims.RequireRole(ctx, "decide CPD funding requests", claims.RoleTrainingHubOfficer); err != nil {
		return Request{}, err
	}
	ods, id, err := ParseRequestName("name", name)
	if err != nil {
		return Request{}, err
	}
	return once(ctx, s, req, func(tx *sqlx.Tx) (Request, string, error) {
		if _, err := s.lockRow(ctx, tx, name, etag, "cpd_requests", "ods_code = $1 AND id = $2", "ods_code", false, ods, id); err != nil {
			return Request{}, "", err
		}
		cur, err := s.getRequest(ctx, tx, name)
		if err != nil {
			return Request{}, "", err
		}
		next := cur
		if next.State, err = moveTo(cur, a); err != nil {
			return Request{}, "", err
		}
		records, err := apply(tx, cur, &next)
		if err != nil {
			return Request{}, "", err
		}
		var courseHub, courseID any
		if next.Course != "" {
			h, c, err := ParseCourseName("course", next.Course)
			if err != nil {
				return Request{}, "", err
			}
			courseHub, courseID = h, c
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cpd_requests SET state = $3, funded_pence = $4, paid_pence = $5,
			rejection_reason = $6, provider = $7, course_title = $8, start_date = $9, end_date = $10, cost_pence = $11,
			financial_year = $12, course_hub_id = $13, course_id = $14, payment_date = $15, payment_reference = $16,
			revision = revision + 1, update_time = now()
			WHERE ods_code = $1 AND id = $2`, ods, id, next.State, next.FundedPence, next.PaidPence, next.RejectionReason,
			next.Provider, next.CourseTitle, next.StartDate, next.EndDate, next.CostPence, next.Year, courseHub, courseID,
			next.PaymentDate, next.PaymentReference); err != nil {
			return Request{}, "", err
		}
		out, err := s.getRequest(ctx, tx, name)
		if err != nil {
			return Request{}, "", err
		}
		pcn, err := pcnOf(ctx, tx, ods)
		if err != nil {
			return Request{}, "", err
		}
		for i := range records {
			records[i].PCNCode = pcn
		}
		records = append([]claims.AuditRecord{{Resource: name, Action: string(a), PCNCode: pcn, Before: cur, After: out}}, records...)
		return out, name, s.cs.AppendAudit(ctx, tx, records...)
	}, s.getRequest)
}

// lockAllocation locks the allocation a request draws on. Every change to
// an allocation's committed or paid amount happens under this lock, so
// approvals racing on separate connections (or replicas) queue here and
// each sees the balance the one before it left.
func lockAllocation(ctx context.Context, tx *sqlx.Tx, r Request) (Allocation, error) {
	var al Allocation
	err := claims.GetOne(ctx, tx, &al, AllocationName(r.ODSCode, r.Scheme, r.Year), `SELECT scheme_id, ods_code,
		financial_year, amount_pence, committed_pence, paid_pence FROM cpd_allocations
		WHERE scheme_id = $1 AND ods_code = $2 AND financial_year = $3 FOR UPDATE`, r.Scheme, r.ODSCode, r.Year)
	return al, err
}

// moveAllocation adds to an allocation's committed and paid amounts and
// returns its audit record.
func moveAllocation(ctx context.Context, tx *sqlx.Tx, al Allocation, committed, paid int64) ([]claims.AuditRecord, error) {
	after := al
	after.CommittedPence += committed
	after.PaidPence += paid
	if _, err := tx.ExecContext(ctx, `UPDATE cpd_allocations SET committed_pence = $4, paid_pence = $5
		WHERE scheme_id = $1 AND ods_code = $2 AND financial_year = $3`,
		al.Scheme, al.ODSCode, al.Year, after.CommittedPence, after.PaidPence); err != nil {
		return nil, err
	}
	return []claims.AuditRecord{{Resource: al.Name(), Action: "update", Before: al, After: after}}, nil
}

func insufficient(al Allocation, want int64) error {
	return claims.FailedPrecondition(al.Name(), "INSUFFICIENT_BALANCE",
		"£"+claims.Pounds(al.RemainingPence())+" remains of this allocation, less than the £"+claims.Pounds(want)+
			" asked: part-fund the request up to what remains, or reject it")
}

// Approve funds a request's whole cost from its allocation.
func (s *Store) Approve(ctx context.Context, req claims.Request, name, etag string) (Request, error) {
	return s.decide(ctx, req, name, etag, actApprove, func(tx *sqlx.Tx, cur Request, next *Request) ([]claims.AuditRecord, error) {
		al, err := lockAllocation(ctx, tx, cur)
		if err != nil {
			return nil, err
		}
		if cur.CostPence > al.RemainingPence() {
			return nil, insufficient(al, cur.CostPence)
		}
		next.FundedPence = cur.CostPence
		return moveAllocation(ctx, tx, al, cur.CostPence, 0)
	})
}

// PartFund funds part of a dearer request's cost: fundedPence, which must
// be less than the cost and at most what remains; 0 funds whatever
// remains. The request keeps its cost, so both amounts are on record.
func (s *Store) PartFund(ctx context.Context, req claims.Request, name, etag string, fundedPence int64) (Request, error) {
	if fundedPence < 0 {
		return Request{}, claims.Invalid("funded_pence", "AMOUNT_RANGE", "must not be negative")
	}
	return s.decide(ctx, req, name, etag, actPartFund, func(tx *sqlx.Tx, cur Request, next *Request) ([]claims.AuditRecord, error) {
		al, err := lockAllocation(ctx, tx, cur)
		if err != nil {
			return nil, err
		}
		amount := fundedPence
		if amount == 0 {
			amount = al.RemainingPence()
			if amount == 0 {
				return nil, claims.FailedPrecondition(al.Name(), "NO_BALANCE", "nothing remains of this allocation")
			}
			if amount >= cur.CostPence {
				return nil, claims.FailedPrecondition(name, "FULLY_FUNDABLE", "the whole cost remains in the allocation: approve the request instead")
			}
		}
		switch {
		case amount >= cur.CostPence:
			return nil, claims.Invalid("funded_pence", "PART_BELOW_COST", "a part-funded amount is less than the cost (%d pence); approve to fund it all", cur.CostPence)
		case amount > al.RemainingPence():
			return nil, insufficient(al, amount)
		}
		next.FundedPence = amount
		return moveAllocation(ctx, tx, al, amount, 0)
	})
}

// Reject refuses a request, with the reason the practice is told.
func (s *Store) Reject(ctx context.Context, req claims.Request, name, etag, reason string) (Request, error) {
	var vs claims.Violations
	checkText(&vs, "reason", reason, 1, 1000)
	if err := vs.Err(); err != nil {
		return Request{}, err
	}
	return s.decide(ctx, req, name, etag, actReject, func(tx *sqlx.Tx, cur Request, next *Request) ([]claims.AuditRecord, error) {
		next.RejectionReason = reason
		if cur.Course == "" {
			return nil, nil
		}
		// A place given to a request that is then rejected goes back to
		// the course, for another request to take.
		return s.releasePlace(ctx, tx, cur.Course)
	})
}

// releasePlace gives a place on course back, under the course's row lock
// (taken after the request's, as AllocatePlace takes them).
func (s *Store) releasePlace(ctx context.Context, tx *sqlx.Tx, course string) ([]claims.AuditRecord, error) {
	hub, courseID, err := ParseCourseName("course", course)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM cpd_courses WHERE hub_id = $1 AND id = $2 FOR UPDATE`, hub, courseID); err != nil {
		return nil, err
	}
	c, err := s.getCourse(ctx, tx, course)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE cpd_courses SET places_allocated = places_allocated - 1,
		revision = revision + 1, update_time = now() WHERE hub_id = $1 AND id = $2`, hub, courseID); err != nil {
		return nil, err
	}
	after := c
	after.PlacesAllocated--
	return []claims.AuditRecord{{Resource: course, Action: "release_place", Before: c, After: after}}, nil
}

// RecordPayment records that the hub paid the provider the funded amount,
// on date (not in the future) with the remittance reference.
func (s *Store) RecordPayment(ctx context.Context, req claims.Request, name, etag string, date claims.Date, reference string) (Request, error) {
	reference = strings.TrimSpace(reference)
	var vs claims.Violations
	switch {
	case date.IsZero():
		vs.Add("payment_date", "REQUIRED", "the day the provider was paid is required")
	case date.After(s.cs.Today()):
		vs.Add("payment_date", "IN_FUTURE", "a payment is recorded once made, not before: %s is after today", date)
	}
	if reference == "" || len(reference) > 200 {
		vs.Add("reference", "REQUIRED", "the payment's remittance reference is required (at most 200 characters)")
	}
	if err := vs.Err(); err != nil {
		return Request{}, err
	}
	return s.decide(ctx, req, name, etag, actPay, func(tx *sqlx.Tx, cur Request, next *Request) ([]claims.AuditRecord, error) {
		next.PaymentDate, next.PaymentReference = date, reference
		al, err := lockAllocation(ctx, tx, cur)
		if err != nil {
			return nil, err
		}
		next.PaidPence = cur.FundedPence
		return moveAllocation(ctx, tx, al, 0, cur.FundedPence)
	})
}

// AllocatePlace gives a submitted request a place on a course the hub
// commissioned: the request takes the course's provider, title and dates,
// and its cost becomes the cost per place. It is then approved or
// part-funded like any other.
func (s *Store) AllocatePlace(ctx context.Context, req claims.Request, name, etag, course string) (Request, error) {
	hub, courseID, err := ParseCourseName("course", course)
	if err != nil {
		return Request{}, err
	}
	return s.decide(ctx, req, name, etag, actPlace, func(tx *sqlx.Tx, cur Request, next *Request) ([]claims.AuditRecord, error) {
		if cur.Course != "" {
			return nil, claims.FailedPrecondition(name, "ALREADY_PLACED", "the request already has a place on "+cur.Course)
		}
		if _, err := s.lockRow(ctx, tx, course, "", "cpd_courses", "hub_id = $1 AND id = $2", "hub_id", true, hub, courseID); err != nil {
			return nil, err
		}
		c, err := s.getCourse(ctx, tx, course)
		if err != nil {
			return nil, err
		}
		if c.PlacesAllocated >= c.Places {
			return nil, claims.FailedPrecondition(course, "NO_PLACES_LEFT", "every place on the course is allocated")
		}
		sc, err := s.getScheme(ctx, tx, SchemeName(cur.Scheme))
		if err != nil {
			return nil, err
		}
		var vs claims.Violations
		checkWithinScheme(&vs, "course", sc, c.StartDate, c.EndDate)
		if err := vs.Err(); err != nil {
			return nil, err
		}
		next.Provider, next.CourseTitle, next.StartDate, next.EndDate = c.Provider, c.Title, c.StartDate, c.EndDate
		next.CostPence, next.Course, next.Year = c.CostPerPlacePence, course, claims.FinancialYearOf(c.StartDate)
		if err := hasAllocation(ctx, tx, cur.Scheme, cur.ODSCode, next.Year); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cpd_courses SET places_allocated = places_allocated + 1,
			revision = revision + 1, update_time = now() WHERE hub_id = $1 AND id = $2`, hub, courseID); err != nil {
			return nil, err
		}
		after := c
		after.PlacesAllocated++
		return []claims.AuditRecord{{Resource: course, Action: "allocate_place", Before: c, After: after}}, nil
	})
}
