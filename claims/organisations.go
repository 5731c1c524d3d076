package claims

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// CommissionerKind says whether a commissioner is a CCG or an ICB.
type CommissionerKind string

// The kinds of commissioner.
const (
	KindCCG CommissionerKind = "ccg"
	KindICB CommissionerKind = "icb"
)

// Commissioner is a CCG (until 30 June 2022) or an ICB (from 1 July 2022).
type Commissioner struct {
	Code        string           `db:"code"`
	Kind        CommissionerKind `db:"kind"`
	DisplayName string           `db:"display_name"`
	ValidFrom   Date             `db:"valid_from"`
	ValidTo     Date             `db:"valid_to"`
	Revision    int64            `db:"revision"`
	CreateTime  time.Time        `db:"create_time"`
	UpdateTime  time.Time        `db:"update_time"`
}

// Name is the resource name.
func (c Commissioner) Name() string { return commissionerName(c.Code) }

// checkDisplayName applies the one rule every display name follows.
func checkDisplayName(vs *Violations, field, name string) {
	if strings.TrimSpace(name) == "" || len(name) > 200 {
		vs.Add(field, "DISPLAY_NAME_LENGTH", "must be 1 to 200 characters and not blank")
	}
}

func (c Commissioner) validate(vs *Violations) {
	const p = "commissioner."
	checkDisplayName(vs, p+"display_name", c.DisplayName)
	switch c.Kind {
	case KindCCG:
		if !ccgCodePattern.MatchString(c.Code) {
			vs.Add("commissioner_id", "CCG_CODE_FORMAT", "a CCG code is 3 or 5 letters and digits, for example 00L or D4U1Y")
		}
		if !c.ValidFrom.IsZero() && !c.ValidFrom.Before(ICBStart) {
			vs.Add(p+"valid_from", "CCG_ENDED", "CCGs were replaced by ICBs on %s", ICBStart)
		}
		if c.ValidTo.IsZero() || !c.ValidTo.Before(ICBStart) {
			vs.Add(p+"valid_to", "CCG_ENDED", "a CCG's last day is on or before %s", ICBStart.AddDays(-1))
		}
	case KindICB:
		if !icbCodePattern.MatchString(c.Code) {
			vs.Add("commissioner_id", "ICB_CODE_FORMAT", "an ICB code is Q and 2 letters or digits, for example QNQ")
		}
		if c.ValidFrom.Before(ICBStart) {
			vs.Add(p+"valid_from", "ICB_START", "ICBs began on %s", ICBStart)
		}
	default:
		vs.Add(p+"kind", "REQUIRED", "must be CCG or ICB")
	}
	if c.ValidFrom.IsZero() {
		vs.Add(p+"valid_from", "REQUIRED", "the first day the body commissioned is required")
	}
	if !c.ValidTo.IsZero() && c.ValidTo.Before(c.ValidFrom) {
		vs.Add(p+"valid_to", "DATE_ORDER", "must not be before valid_from")
	}
}

const commissionerColumns = `code, kind, display_name, valid_from, valid_to, revision, create_time, update_time`

// GetCommissioner reads one commissioner by code.
func (s *Store) GetCommissioner(ctx context.Context, code string) (Commissioner, error) {
	return getCommissioner(ctx, s.db, commissionerName(code))
}

func getCommissioner(ctx context.Context, q sqlx.QueryerContext, name string) (Commissioner, error) {
	var c Commissioner
	code := strings.TrimPrefix(name, "commissioners/")
	err := getOne(ctx, q, &c, name, `SELECT `+commissionerColumns+` FROM commissioners WHERE code = $1`, code)
	return c, err
}

// ListCommissioners lists commissioners in code order.
func (s *Store) ListCommissioners(ctx context.Context, page Page) ([]Commissioner, string, error) {
	after := strings.TrimPrefix(page.After, "commissioners/")
	var rows []Commissioner
	err := s.db.SelectContext(ctx, &rows, `SELECT `+commissionerColumns+` FROM commissioners
		WHERE code > $1 ORDER BY code LIMIT $2`, after, page.Size+1)
	if err != nil {
		return nil, "", err
	}
	rows, next := pageOf(rows, page.Size)
	return rows, next, nil
}

// CreateCommissioner validates and stores a new commissioner.
func (s *Store) CreateCommissioner(ctx context.Context, req Request, c Commissioner) (Commissioner, error) {
	if err := requireNational(ctx); err != nil {
		return Commissioner{}, err
	}
	var vs Violations
	c.validate(&vs)
	if err := vs.Err(); err != nil {
		return Commissioner{}, err
	}
	return once(ctx, s, req, func(tx *txn) (Commissioner, string, error) {
		var out Commissioner
		err := tx.GetContext(ctx, &out, `INSERT INTO commissioners (code, kind, display_name, valid_from, valid_to)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO NOTHING RETURNING `+commissionerColumns,
			c.Code, c.Kind, c.DisplayName, c.ValidFrom, c.ValidTo)
		if isNoRows(err) {
			return out, "", AlreadyExists(c.Name(), c.Name()+" already exists")
		}
		if err != nil {
			return out, "", err
		}
		return out, out.Name(), s.appendAudit(ctx, tx, out.Name(), "create", "", nil, out)
	}, getCommissioner)
}

// UpdateCommissioner applies change to the stored commissioner under an etag
// check. Kind and code are immutable.
func (s *Store) UpdateCommissioner(ctx context.Context, code, etag string, change func(*Commissioner)) (Commissioner, error) {
	if err := requireNational(ctx); err != nil {
		return Commissioner{}, err
	}
	return update(ctx, s, mutation[Commissioner]{
		table: "commissioners", where: "code = $1", key: []any{code}, name: commissionerName(code), get: getCommissioner,
		apply: func(_ *txn, cur Commissioner, next *Commissioner) error {
			change(next)
			next.Code, next.Kind = cur.Code, cur.Kind
			return validated(next.validate)
		},
		write: func(tx *txn, next Commissioner) error {
			_, err := tx.ExecContext(ctx, `UPDATE commissioners SET display_name = $2, valid_from = $3, valid_to = $4,
				revision = revision + 1, update_time = now() WHERE code = $1`, code, next.DisplayName, next.ValidFrom, next.ValidTo)
			return err
		},
	}, etag)
}

// lockAndCheck locks the row for the rest of the transaction and checks the
// caller's etag against it, so two racing updates cannot both pass the check.
// A row outside the actor's scope (scopeCol names its PCN code column, or is
// empty for national reference data) is NOT_FOUND, exactly as if absent.
func lockAndCheck(ctx context.Context, tx *txn, table, where, scopeCol, name, etag string, key ...any) error {
	a := args(key)
	if scopeCol != "" {
		where += " AND " + pcnCondition(ctx, scopeCol, &a)
	}
	var rev int64
	if err := getOne(ctx, tx, &rev, name, fmt.Sprintf(`SELECT revision FROM %s WHERE %s FOR UPDATE`, table, where), a...); err != nil {
		return err
	}
	return checkEtag(name, etag, rev)
}

// WeightingZone picks which of a role's maximum rates applies to a PCN.
type WeightingZone string

// The weighting zones.
const (
	ZoneNational    WeightingZone = "national"
	ZoneOuterLondon WeightingZone = "outer_london"
	ZoneInnerLondon WeightingZone = "inner_london"
)

// PayeeKind says what kind of body receives a PCN's payments.
type PayeeKind string

// The kinds of payee.
const (
	PayeePractice   PayeeKind = "practice"
	PayeeFederation PayeeKind = "federation"
	PayeeTrust      PayeeKind = "trust"
	PayeePCNAccount PayeeKind = "pcn_account"
)

// Practice is a member GP practice of a PCN.
type Practice struct {
	ODSCode     string `db:"ods_code"`
	DisplayName string `db:"display_name"`
}

// PCN is a Primary Care Network.
type PCN struct {
	Code             string        `db:"code"`
	DisplayName      string        `db:"display_name"`
	CommissionerCode string        `db:"commissioner_code"`
	Zone             WeightingZone `db:"weighting_zone"`
	ListSize         int64         `db:"registered_list_size"`
	PayeeKind        PayeeKind     `db:"payee_kind"`
	PayeeODSCode     string        `db:"payee_ods_code"`
	PayeeName        string        `db:"payee_name"`
	// SubICBLocationCode is the sub-ICB location of CommissionerCode the
	// PCN is in; "" while not recorded.
	SubICBLocationCode OptionalCode `db:"sub_icb_location_code"`
	// subICBNamedUnder is the commissioner a request's sub-ICB location
	// name was under, checked against where that location is.
	subICBNamedUnder string
	Practices        []Practice `db:"-"`
	Revision         int64      `db:"revision"`
	CreateTime       time.Time  `db:"create_time"`
	UpdateTime       time.Time  `db:"update_time"`
}

// Name is the resource name.
func (p PCN) Name() string { return pcnName(p.Code) }

func (p PCN) validate(vs *Violations) {
	const f = "pcn."
	if !ValidPCNCode(p.Code) {
		vs.Add("pcn_id", "PCN_CODE_FORMAT", "a PCN ODS code is U followed by 5 digits, for example U12345")
	}
	checkDisplayName(vs, f+"display_name", p.DisplayName)
	if p.CommissionerCode == "" {
		vs.Add(f+"commissioner", "REQUIRED", "the commissioner is required")
	}
	switch p.Zone {
	case ZoneNational, ZoneOuterLondon, ZoneInnerLondon:
	default:
		vs.Add(f+"weighting_zone", "REQUIRED", "must be national, outer London or inner London")
	}
	if p.ListSize < 0 {
		vs.Add(f+"registered_list_size", "NOT_NEGATIVE", "must not be negative")
	}
	if len(p.Practices) == 0 {
		vs.Add(f+"member_practices", "REQUIRED", "a PCN has at least one member practice")
	}
	seen := map[string]bool{}
	for i, pr := range p.Practices {
		field := fmt.Sprintf("%smember_practices[%d]", f, i)
		if !ValidPracticeCode(pr.ODSCode) {
			vs.Add(field+".ods_code", "PRACTICE_CODE_FORMAT", "a practice ODS code is a letter followed by 5 digits, for example A81001")
		} else if seen[pr.ODSCode] {
			vs.Add(field+".ods_code", "DUPLICATE", "practice %s is listed twice", pr.ODSCode)
		}
		seen[pr.ODSCode] = true
		checkDisplayName(vs, field+".display_name", pr.DisplayName)
	}
	switch p.PayeeKind {
	case PayeePractice:
		if !seen[p.PayeeODSCode] {
			vs.Add(f+"nominated_payee.ods_code", "PAYEE_NOT_MEMBER", "a practice payee must be one of the member practices")
		}
	case PayeeFederation, PayeeTrust:
		checkDisplayName(vs, f+"nominated_payee.display_name", p.PayeeName)
	case PayeePCNAccount:
	default:
		vs.Add(f+"nominated_payee.kind", "REQUIRED", "must be a practice, federation, trust or the PCN's own account")
	}
}

// checkReferences validates what only the database knows: the commissioner
// exists, the sub-ICB location is one of its, and no listed practice
// belongs to another PCN.
func (p PCN) checkReferences(ctx context.Context, tx *txn) error {
	var vs Violations
	var exists bool
	if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM commissioners WHERE code = $1)`, p.CommissionerCode); err != nil {
		return err
	}
	if !exists {
		vs.Add("pcn.commissioner", "UNKNOWN_COMMISSIONER", "%s does not exist", commissionerName(p.CommissionerCode))
	} else if err := p.checkSubICBLocation(ctx, tx, &vs); err != nil {
		return err
	}
	codes := make([]string, len(p.Practices))
	for i, pr := range p.Practices {
		codes[i] = pr.ODSCode
	}
	var taken []struct {
		ODSCode string `db:"ods_code"`
		PCNCode string `db:"pcn_code"`
	}
	if err := tx.SelectContext(ctx, &taken, `SELECT ods_code, pcn_code FROM pcn_practices
		WHERE ods_code = ANY($1) AND pcn_code <> $2`, pq.Array(codes), p.Code); err != nil {
		return err
	}
	for _, t := range taken {
		for i, c := range codes {
			if c == t.ODSCode {
				vs.Add(fmt.Sprintf("pcn.member_practices[%d].ods_code", i), "PRACTICE_IN_OTHER_PCN",
					"practice %s is a member of %s; a practice belongs to one PCN at a time", c, pcnName(t.PCNCode))
			}
		}
	}
	return vs.Err()
}

const pcnColumns = `code, display_name, commissioner_code, sub_icb_location_code, weighting_zone, registered_list_size,
	payee_kind, payee_ods_code, payee_name, revision, create_time, update_time`

// GetPCN reads one PCN with its member practices.
func (s *Store) GetPCN(ctx context.Context, code string) (PCN, error) {
	return snapshot(ctx, s, func(q sqlx.QueryerContext) (PCN, error) { return getPCN(ctx, q, pcnName(code)) })
}

func getPCN(ctx context.Context, q sqlx.QueryerContext, name string) (PCN, error) {
	var p PCN
	a := args{strings.TrimPrefix(name, "pcns/")}
	if err := getOne(ctx, q, &p, name, `SELECT `+pcnColumns+` FROM pcns WHERE code = $1 AND `+pcnCondition(ctx, "code", &a), a...); err != nil {
		return p, err
	}
	ps := []PCN{p}
	err := loadPractices(ctx, q, ps)
	return ps[0], err
}

// loadPractices fills in the member practices of every PCN in one query.
func loadPractices(ctx context.Context, q sqlx.QueryerContext, pcns []PCN) error {
	type practiceRow struct {
		PCNCode string `db:"pcn_code"`
		Practice
	}
	return attach(ctx, q, pcns, func(p PCN) string { return p.Code },
		`SELECT pcn_code, ods_code, display_name FROM pcn_practices WHERE pcn_code = ANY($1) ORDER BY pcn_code, position`,
		func(r practiceRow) string { return r.PCNCode },
		func(p *PCN, r practiceRow) { p.Practices = append(p.Practices, r.Practice) })
}

// ListPCNs lists PCNs in code order, optionally only one commissioner's.
func (s *Store) ListPCNs(ctx context.Context, commissioner string, page Page) ([]PCN, string, error) {
	return snapshotPage(ctx, s, func(q sqlx.QueryerContext) ([]PCN, string, error) {
		a := args{strings.TrimPrefix(page.After, "pcns/"), commissioner, page.Size + 1}
		var rows []PCN
		err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+pcnColumns+` FROM pcns
			WHERE code > $1 AND ($2 = '' OR commissioner_code = $2) AND `+pcnCondition(ctx, "code", &a)+`
			ORDER BY code LIMIT $3`, a...)
		if err != nil {
			return nil, "", err
		}
		rows, next := pageOf(rows, page.Size)
		return rows, next, loadPractices(ctx, q, rows)
	})
}

// CreatePCN validates and stores a new PCN with its member practices.
func (s *Store) CreatePCN(ctx context.Context, req Request, p PCN) (PCN, error) {
	if err := requireNational(ctx); err != nil {
		return PCN{}, err
	}
	var vs Violations
	p.validate(&vs)
	if err := vs.Err(); err != nil {
		return PCN{}, err
	}
	return once(ctx, s, req, func(tx *txn) (PCN, string, error) {
		if err := p.checkReferences(ctx, tx); err != nil {
			return PCN{}, "", err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO pcns (code, display_name, commissioner_code, weighting_zone,
			registered_list_size, payee_kind, payee_ods_code, payee_name, sub_icb_location_code)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (code) DO NOTHING`,
			p.Code, p.DisplayName, p.CommissionerCode, p.Zone, p.ListSize, p.PayeeKind, p.PayeeODSCode, p.PayeeName,
			p.SubICBLocationCode)
		if err != nil {
			return PCN{}, "", err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return PCN{}, "", AlreadyExists(p.Name(), p.Name()+" already exists")
		}
		if err := writePractices(ctx, tx, p); err != nil {
			return PCN{}, "", err
		}
		out, err := getPCN(ctx, tx, p.Name())
		if err != nil {
			return out, "", err
		}
		return out, out.Name(), s.appendAudit(ctx, tx, out.Name(), "create", out.Code, nil, out)
	}, getPCN)
}

func writePractices(ctx context.Context, tx *txn, p PCN) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM pcn_practices WHERE pcn_code = $1`, p.Code); err != nil {
		return err
	}
	codes := make([]string, len(p.Practices))
	names := make([]string, len(p.Practices))
	for i, pr := range p.Practices {
		codes[i], names[i] = pr.ODSCode, pr.DisplayName
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO pcn_practices (ods_code, pcn_code, display_name, position)
		SELECT c, $1, n, o FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(c, n, o)`,
		p.Code, pq.Array(codes), pq.Array(names))
	return err
}

// UpdatePCN applies change to the stored PCN under an etag check.
func (s *Store) UpdatePCN(ctx context.Context, code, etag string, change func(*PCN)) (PCN, error) {
	if err := requireNational(ctx); err != nil {
		return PCN{}, err
	}
	return update(ctx, s, mutation[PCN]{
		table: "pcns", where: "code = $1", scopeCol: "code", key: []any{code}, name: pcnName(code), pcn: code, get: getPCN,
		apply: func(tx *txn, cur PCN, next *PCN) error {
			next.Practices = slices.Clone(cur.Practices)
			change(next)
			next.Code = cur.Code
			if err := validated(next.validate); err != nil {
				return err
			}
			if err := next.checkReferences(ctx, tx); err != nil {
				return err
			}
			return s.recordMove(ctx, tx, cur, *next)
		},
		write: func(tx *txn, next PCN) error {
			if _, err := tx.ExecContext(ctx, `UPDATE pcns SET display_name = $2, commissioner_code = $3, weighting_zone = $4,
				registered_list_size = $5, payee_kind = $6, payee_ods_code = $7, payee_name = $8, sub_icb_location_code = $9,
				revision = revision + 1, update_time = now() WHERE code = $1`,
				code, next.DisplayName, next.CommissionerCode, next.Zone, next.ListSize, next.PayeeKind, next.PayeeODSCode, next.PayeeName,
				next.SubICBLocationCode); err != nil {
				return err
			}
			return writePractices(ctx, tx, next)
		},
	}, etag)
}

// recordMove keeps where the PCN was when its commissioner or sub-ICB
// location changes, so that claims for the months before stay where they
// were (a claim belongs to the commissioner and location of its month).
//
// Recording a location for the first time, under the same commissioner, is
// not a move: sub-ICB locations became data later than the PCNs, and a PCN
// without one was in it all along. Its claims under that commissioner that
// have none take it, and no history is written.
func (s *Store) recordMove(ctx context.Context, tx *txn, cur, next PCN) error {
	switch {
	case next.CommissionerCode == cur.CommissionerCode && next.SubICBLocationCode == cur.SubICBLocationCode:
		return nil
	case next.CommissionerCode == cur.CommissionerCode && cur.SubICBLocationCode == "":
		_, err := tx.ExecContext(ctx, `UPDATE claims SET sub_icb_location_code = $3
			WHERE pcn_code = $1 AND commissioner_code = $2 AND sub_icb_location_code IS NULL`,
			cur.Code, cur.CommissionerCode, next.SubICBLocationCode)
		return err
	}
	// Until yesterday: claims for those months are still the old
	// commissioner's to review. A second change the same day (a correction)
	// keeps the first record: the one that really held until yesterday.
	_, err := tx.ExecContext(ctx, `INSERT INTO pcn_commissioners (pcn_code, commissioner_code, sub_icb_location_code, valid_to)
		VALUES ($1, $2, $3, $4) ON CONFLICT (pcn_code, valid_to) DO NOTHING`,
		cur.Code, cur.CommissionerCode, cur.SubICBLocationCode, s.today().AddDays(-1))
	return err
}
