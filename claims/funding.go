package claims

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// FundingYear is a financial year open for ARRS with its national rate per
// weighted patient (pounds, exact).
type FundingYear struct {
	Year                   FinancialYear `db:"id"`
	RatePerWeightedPatient Decimal       `db:"rate_per_weighted_patient"`
	// ClaimsDeadline is the last day the year's months may be claimed; zero
	// while none is set.
	ClaimsDeadline Date `db:"claims_deadline"`
	// NationalPoolPence is the national ARRS pool the rate shares out (for
	// example £1,754m in 2026/27); 0 while not recorded.
	NationalPoolPence int64 `db:"national_pool_pence"`
	// Illustrative marks a year whose figures are provisional: set before a
	// pay award or pay review body figure was known.
	Illustrative bool      `db:"illustrative"`
	Revision     int64     `db:"revision"`
	CreateTime   time.Time `db:"create_time"`
	UpdateTime   time.Time `db:"update_time"`
}

// Name is the resource name.
func (y FundingYear) Name() string { return financialYearName(y.Year) }

func (y FundingYear) validate(vs *Violations) {
	if y.RatePerWeightedPatient <= 0 {
		vs.Add("financial_year.rate_per_weighted_patient", "RATE_POSITIVE", "must be more than 0 pounds")
	}
	if !y.ClaimsDeadline.IsZero() && y.ClaimsDeadline.Before(y.Year.End()) {
		vs.Add("financial_year.claims_deadline", "DEADLINE_AFTER_YEAR",
			"claims are in arrears, so the deadline is on or after %s", y.Year.End())
	}
	if y.NationalPoolPence < 0 {
		vs.Add("financial_year.national_pool_pence", "NOT_NEGATIVE", "must not be negative (0: not recorded)")
	}
}

const fundingYearColumns = `id, rate_per_weighted_patient, claims_deadline, national_pool_pence, illustrative,
	revision, create_time, update_time`

// GetFundingYear reads one financial year.
func (s *Store) GetFundingYear(ctx context.Context, y FinancialYear) (FundingYear, error) {
	return getFundingYear(ctx, s.db, financialYearName(y))
}

func getFundingYear(ctx context.Context, q sqlx.QueryerContext, name string) (FundingYear, error) {
	var out FundingYear
	y, err := ParseFinancialYearName("name", name)
	if err != nil {
		return out, err
	}
	err = getOne(ctx, q, &out, name, `SELECT `+fundingYearColumns+` FROM financial_years WHERE id = $1`, y)
	return out, err
}

// ListFundingYears lists financial years, oldest first.
func (s *Store) ListFundingYears(ctx context.Context, page Page) ([]FundingYear, string, error) {
	after := ""
	if page.After != "" {
		y, err := ParseFinancialYearName("page_token", page.After)
		if err != nil {
			return nil, "", err
		}
		after = y.String()
	}
	var rows []FundingYear
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+fundingYearColumns+` FROM financial_years
		WHERE id > $1 ORDER BY id LIMIT $2`, after, page.Size+1); err != nil {
		return nil, "", err
	}
	rows, next := pageOf(rows, page.Size)
	return rows, next, nil
}

// CreateFundingYear opens a financial year.
func (s *Store) CreateFundingYear(ctx context.Context, req Request, y FundingYear) (FundingYear, error) {
	if err := requireNational(ctx); err != nil {
		return FundingYear{}, err
	}
	var vs Violations
	y.validate(&vs)
	if err := vs.Err(); err != nil {
		return FundingYear{}, err
	}
	return once(ctx, s, req, func(tx *txn) (FundingYear, string, error) {
		var out FundingYear
		err := tx.GetContext(ctx, &out, `INSERT INTO financial_years (id, rate_per_weighted_patient, claims_deadline,
			national_pool_pence, illustrative) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING `+fundingYearColumns,
			y.Year, y.RatePerWeightedPatient, y.ClaimsDeadline, y.NationalPoolPence, y.Illustrative)
		if isNoRows(err) {
			return out, "", AlreadyExists(y.Name(), y.Name()+" already exists")
		}
		if err != nil {
			return out, "", err
		}
		return out, out.Name(), s.appendAudit(ctx, tx, out.Name(), "create", "", nil, out)
	}, getFundingYear)
}

// UpdateFundingYear applies change to a financial year under an etag check.
// Every entitlement of the year follows the new rate.
func (s *Store) UpdateFundingYear(ctx context.Context, year FinancialYear, etag string, change func(*FundingYear)) (FundingYear, error) {
	if err := requireNational(ctx); err != nil {
		return FundingYear{}, err
	}
	return update(ctx, s, mutation[FundingYear]{
		table: "financial_years", where: "id = $1", key: []any{year}, name: financialYearName(year), get: getFundingYear,
		apply: func(tx *txn, cur FundingYear, next *FundingYear) error {
			change(next)
			next.Year = cur.Year
			if err := validated(next.validate); err != nil {
				return err
			}
			// Submissions share the year's row, so holding it for update
			// keeps anything new from being counted while the check runs.
			var claimed []struct {
				Entitlement
				Committed int64 `db:"committed"`
			}
			if err := tx.SelectContext(ctx, &claimed, `SELECT e.pcn_code, e.weighted_population, (
					`+countedSQL(`c.pcn_code = e.pcn_code AND c.financial_year = e.financial_year AND c.state = ANY($2)`)+`) AS committed
				FROM entitlements e WHERE e.financial_year = $1 ORDER BY e.pcn_code`, year, committedStates); err != nil {
				return err
			}
			var short []string
			for _, c := range claimed {
				c.RatePerWeightedPatient = next.RatePerWeightedPatient
				if c.AmountPence() < c.Committed && len(short) < 5 {
					short = append(short, c.PCNCode)
				}
			}
			if len(short) > 0 {
				return FailedPrecondition(next.Name(), "ENTITLEMENT_BELOW_CLAIMED", fmt.Sprintf(
					"at that rate some PCNs' entitlements would be below what they have already claimed: %s", strings.Join(short, ", ")))
			}
			return nil
		},
		write: func(tx *txn, next FundingYear) error {
			_, err := tx.ExecContext(ctx, `UPDATE financial_years SET rate_per_weighted_patient = $2, claims_deadline = $3,
				national_pool_pence = $4, illustrative = $5, revision = revision + 1, update_time = now() WHERE id = $1`,
				year, next.RatePerWeightedPatient, next.ClaimsDeadline, next.NationalPoolPence, next.Illustrative)
			return err
		},
	}, etag)
}

// Entitlement is a PCN's ARRS budget for one financial year.
type Entitlement struct {
	PCNCode                string        `db:"pcn_code"`
	Year                   FinancialYear `db:"financial_year"`
	WeightedPopulation     Decimal       `db:"weighted_population"`
	RatePerWeightedPatient Decimal       `db:"rate_per_weighted_patient"`
	Revision               int64         `db:"revision"`
	CreateTime             time.Time     `db:"create_time"`
	UpdateTime             time.Time     `db:"update_time"`
}

// Name is the resource name.
func (e Entitlement) Name() string { return entitlementName(e.PCNCode, e.Year) }

// AmountPence is the year's budget: rate per weighted patient × weighted
// population, rounded half up to the penny once. For example 2025-26 at
// £26.631 for 52,345.67 weighted patients is £1,394,017.53777: 139401754p.
func (e Entitlement) AmountPence() int64 {
	return MulRound(e.RatePerWeightedPatient, e.WeightedPopulation, 100)
}

// maxWeightedPopulation bounds the input: the largest PCNs serve about
// 100,000 patients, so ten million is a typing error.
const maxWeightedPopulation = 10_000_000 * DecimalScale

func (e Entitlement) validate(vs *Violations) {
	if e.WeightedPopulation < 0 || e.WeightedPopulation > maxWeightedPopulation {
		vs.Add("entitlement.weighted_population", "POPULATION_RANGE", "must be from 0 to 10,000,000")
	}
}

const entitlementSelect = `SELECT e.pcn_code, e.financial_year, e.weighted_population,
	y.rate_per_weighted_patient, e.revision, e.create_time, e.update_time
	FROM entitlements e JOIN financial_years y ON y.id = e.financial_year`

// GetEntitlement reads one PCN's entitlement for a year.
func (s *Store) GetEntitlement(ctx context.Context, pcn string, year FinancialYear) (Entitlement, error) {
	return getEntitlement(ctx, s.db, entitlementName(pcn, year))
}

func getEntitlement(ctx context.Context, q sqlx.QueryerContext, name string) (Entitlement, error) {
	var out Entitlement
	pcn, year, err := ParseEntitlementName("name", name)
	if err != nil {
		return out, err
	}
	a := args{pcn, year}
	err = getOne(ctx, q, &out, name, entitlementSelect+` WHERE e.pcn_code = $1 AND e.financial_year = $2 AND `+
		pcnCondition(ctx, "e.pcn_code", &a), a...)
	return out, err
}

// ListEntitlements lists one PCN's entitlements (every PCN's when pcn is
// empty) in PCN then year order.
func (s *Store) ListEntitlements(ctx context.Context, pcn string, page Page) ([]Entitlement, string, error) {
	afterPCN, afterYear := "", ""
	if page.After != "" {
		p, y, err := ParseEntitlementName("page_token", page.After)
		if err != nil {
			return nil, "", err
		}
		afterPCN, afterYear = p, y.String()
	}
	a := args{afterPCN, afterYear, pcn, page.Size + 1}
	var rows []Entitlement
	if err := s.db.SelectContext(ctx, &rows, entitlementSelect+`
		WHERE (e.pcn_code, e.financial_year) > ($1, $2) AND ($3 = '' OR e.pcn_code = $3) AND `+pcnCondition(ctx, "e.pcn_code", &a)+`
		ORDER BY e.pcn_code, e.financial_year LIMIT $4`, a...); err != nil {
		return nil, "", err
	}
	rows, next := pageOf(rows, page.Size)
	return rows, next, nil
}

// CreateEntitlement records a PCN's weighted population for a year that is
// open.
func (s *Store) CreateEntitlement(ctx context.Context, req Request, e Entitlement) (Entitlement, error) {
	if err := requireNational(ctx); err != nil {
		return Entitlement{}, err
	}
	var vs Violations
	e.validate(&vs)
	if err := vs.Err(); err != nil {
		return Entitlement{}, err
	}
	return once(ctx, s, req, func(tx *txn) (Entitlement, string, error) {
		if err := pcnVisible(ctx, tx, e.PCNCode); err != nil {
			return Entitlement{}, "", err
		}
		var open bool
		if err := tx.GetContext(ctx, &open, `SELECT EXISTS (SELECT 1 FROM financial_years WHERE id = $1)`, e.Year); err != nil {
			return Entitlement{}, "", err
		}
		if !open {
			return Entitlement{}, "", Invalid("entitlement_id", "UNKNOWN_FINANCIAL_YEAR",
				"%s does not exist; create it first", financialYearName(e.Year))
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO entitlements (pcn_code, financial_year, weighted_population)
			VALUES ($1, $2, $3) ON CONFLICT (pcn_code, financial_year) DO NOTHING`, e.PCNCode, e.Year, e.WeightedPopulation)
		if err != nil {
			return Entitlement{}, "", err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return Entitlement{}, "", AlreadyExists(e.Name(), e.Name()+" already exists")
		}
		out, err := getEntitlement(ctx, tx, e.Name())
		if err != nil {
			return out, "", err
		}
		return out, out.Name(), s.appendAudit(ctx, tx, out.Name(), "create", out.PCNCode, nil, out)
	}, getEntitlement)
}

// UpdateEntitlement applies change to an entitlement under an etag check.
func (s *Store) UpdateEntitlement(ctx context.Context, pcn string, year FinancialYear, etag string, change func(*Entitlement)) (Entitlement, error) {
	if err := requireNational(ctx); err != nil {
		return Entitlement{}, err
	}
	return update(ctx, s, mutation[Entitlement]{
		table: "entitlements", where: "pcn_code = $1 AND financial_year = $2", scopeCol: "pcn_code", key: []any{pcn, year},
		name: entitlementName(pcn, year), pcn: pcn, get: getEntitlement,
		apply: func(tx *txn, cur Entitlement, next *Entitlement) error {
			change(next)
			next.PCNCode, next.Year, next.RatePerWeightedPatient = cur.PCNCode, cur.Year, cur.RatePerWeightedPatient
			if err := validated(next.validate); err != nil {
				return err
			}
			// The row lock update took is the one submissions queue on, so
			// nothing is counted against the entitlement meanwhile.
			committed, err := committedPence(ctx, tx, pcn, year, "")
			if err != nil {
				return err
			}
			if next.AmountPence() < committed {
				return FailedPrecondition(next.Name(), "ENTITLEMENT_BELOW_CLAIMED", fmt.Sprintf(
					"the entitlement would be %s, below the %s already claimed for %s", Pounds(next.AmountPence()), Pounds(committed), year))
			}
			return nil
		},
		write: func(tx *txn, next Entitlement) error {
			_, err := tx.ExecContext(ctx, `UPDATE entitlements SET weighted_population = $3, revision = revision + 1,
				update_time = now() WHERE pcn_code = $1 AND financial_year = $2`, pcn, year, next.WeightedPopulation)
			return err
		},
	}, etag)
}

// mustExist returns NOT_FOUND for name unless the EXISTS query says it does.
func mustExist(ctx context.Context, q sqlx.QueryerContext, name, query string, args ...any) error {
	var ok bool
	if err := sqlx.GetContext(ctx, q, &ok, query, args...); err != nil {
		return err
	}
	if !ok {
		return NotFound(name)
	}
	return nil
}
