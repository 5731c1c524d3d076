package claims

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Sub-ICB locations: since 1 July 2022 an ICB's area is divided into
// sub-ICB locations that keep the codes of the CCGs they replaced. They are
// national reference data (the Organisation Data Service publishes them),
// loaded by NHS England like commissioners, and every caller may read them;
// what is scoped is the figures broken down by them (the statistics).
//
// A PCN is in at most one of its own commissioner's locations (the
// database's composite key says so too: migration 00017), and a claim
// records the location of its month beside its commissioner.

// SubICBLocation is one sub-ICB location of an ICB.
type SubICBLocation struct {
	Code             string    `db:"code"`
	CommissionerCode string    `db:"commissioner_code"`
	DisplayName      string    `db:"display_name"`
	Revision         int64     `db:"revision"`
	CreateTime       time.Time `db:"create_time"`
	UpdateTime       time.Time `db:"update_time"`
}

// Name is the resource name, commissioners/{icb}/subIcbLocations/{code}.
func (l SubICBLocation) Name() string { return subICBLocationName(l.CommissionerCode, l.Code) }

func subICBLocationName(commissioner, code string) string {
	return "commissioners/" + commissioner + "/subIcbLocations/" + code
}

// validSubICBCode reports whether s has the shape of the CCG code a sub-ICB
// location keeps: 3 or 5 letters and digits, and not an ICB's (Q and two).
func validSubICBCode(s string) bool {
	return ccgCodePattern.MatchString(s) && !icbCodePattern.MatchString(s)
}

// ParseSubICBLocationName reads "commissioners/{icb}/subIcbLocations/{code}".
func ParseSubICBLocationName(field, name string) (commissioner, code string, err error) {
	const pattern = "commissioners/{commissioner}/subIcbLocations/{sub_icb_location}"
	v, ok := segments(name, pattern)
	if !ok || !icbCodePattern.MatchString(v[0]) || !validSubICBCode(v[1]) {
		return "", "", nameError(field, name, pattern)
	}
	return v[0], v[1], nil
}

func (l SubICBLocation) validate(vs *Violations) {
	if !validSubICBCode(l.Code) {
		vs.Add("sub_icb_location_id", "SUB_ICB_CODE_FORMAT",
			"a sub-ICB location keeps its CCG's code: 3 or 5 letters and digits, for example 00L or D4U1Y, not an ICB's")
	}
	checkDisplayName(vs, "sub_icb_location.display_name", l.DisplayName)
}

const subICBColumns = `code, commissioner_code, display_name, revision, create_time, update_time`

func getSubICBLocation(ctx context.Context, q sqlx.QueryerContext, name string) (SubICBLocation, error) {
	var out SubICBLocation
	commissioner, code, err := ParseSubICBLocationName("name", name)
	if err != nil {
		return out, err
	}
	err = getOne(ctx, q, &out, name, `SELECT `+subICBColumns+` FROM sub_icb_locations
		WHERE commissioner_code = $1 AND code = $2`, commissioner, code)
	return out, err
}

// GetSubICBLocation reads one sub-ICB location.
func (s *Store) GetSubICBLocation(ctx context.Context, commissioner, code string) (SubICBLocation, error) {
	return getSubICBLocation(ctx, s.db, subICBLocationName(commissioner, code))
}

// ListSubICBLocations lists one commissioner's sub-ICB locations (every
// commissioner's when commissioner is ""), in commissioner then code order.
func (s *Store) ListSubICBLocations(ctx context.Context, commissioner string, page Page) ([]SubICBLocation, string, error) {
	afterCommissioner, afterCode := "", ""
	if page.After != "" {
		var err error
		if afterCommissioner, afterCode, err = ParseSubICBLocationName("page_token", page.After); err != nil {
			return nil, "", err
		}
	}
	var rows []SubICBLocation
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+subICBColumns+` FROM sub_icb_locations
		WHERE (commissioner_code, code) > ($1, $2) AND ($3 = '' OR commissioner_code = $3)
		ORDER BY commissioner_code, code LIMIT $4`, afterCommissioner, afterCode, commissioner, page.Size+1); err != nil {
		return nil, "", err
	}
	rows, next := pageOf(rows, page.Size)
	return rows, next, nil
}

// CreateSubICBLocation records a sub-ICB location of an ICB, audited, in
// one transaction. Only national administrators load reference data; only
// an ICB has sub-ICB locations (a CCG was one).
func (s *Store) CreateSubICBLocation(ctx context.Context, req Request, l SubICBLocation) (SubICBLocation, error) {
	if err := requireNational(ctx); err != nil {
		return SubICBLocation{}, err
	}
	if err := validated(l.validate); err != nil {
		return SubICBLocation{}, err
	}
	name := l.Name()
	return once(ctx, s, req, func(tx *txn) (SubICBLocation, string, error) {
		parent := commissionerName(l.CommissionerCode)
		var kind CommissionerKind
		if err := getOne(ctx, tx, &kind, parent, `SELECT kind FROM commissioners WHERE code = $1`, l.CommissionerCode); err != nil {
			return SubICBLocation{}, "", err
		}
		if kind != KindICB {
			return SubICBLocation{}, "", FailedPrecondition(parent, "COMMISSIONER_NOT_ICB",
				"only an integrated care board has sub-ICB locations; a CCG's area became one")
		}
		var out SubICBLocation
		err := tx.GetContext(ctx, &out, `INSERT INTO sub_icb_locations (code, commissioner_code, display_name)
			VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING RETURNING `+subICBColumns, l.Code, l.CommissionerCode, l.DisplayName)
		if isNoRows(err) {
			// Codes are national: a location is in one ICB, so another ICB's
			// location with this code is taken too.
			return out, "", AlreadyExists(name, fmt.Sprintf("sub-ICB location %s already exists", l.Code))
		}
		if err != nil {
			return out, "", err
		}
		return out, name, s.appendAudit(ctx, tx, name, "create", "", nil, out)
	}, getSubICBLocation)
}

// checkSubICBLocation names what is wrong with a PCN's sub-ICB location:
// it must exist and be one of the PCN's own commissioner's. The database's
// composite key (pcns_sub_icb_location_of_commissioner) holds the same
// rule; this check comes first so that the caller learns which field and
// why. A PCN moving to another commissioner must name a location of the new
// one (or none) in the same change: its old one is not carried over.
func (p PCN) checkSubICBLocation(ctx context.Context, tx *txn, vs *Violations) error {
	if p.SubICBLocationCode == "" {
		return nil
	}
	const field = "pcn.sub_icb_location"
	var owner string
	err := tx.GetContext(ctx, &owner, `SELECT commissioner_code FROM sub_icb_locations WHERE code = $1`, p.SubICBLocationCode)
	switch {
	case isNoRows(err) || err == nil && p.subICBNamedUnder != "" && owner != p.subICBNamedUnder:
		vs.Add(field, "UNKNOWN_SUB_ICB_LOCATION", "%s does not exist",
			subICBLocationName(cmp.Or(p.subICBNamedUnder, p.CommissionerCode), string(p.SubICBLocationCode)))
	case err != nil:
		return err
	case owner != p.CommissionerCode:
		vs.Add(field, "SUB_ICB_LOCATION_OF_OTHER_COMMISSIONER",
			"%s is a location of %s; a PCN's sub-ICB location must be one of its own commissioner's, %s",
			subICBLocationName(owner, string(p.SubICBLocationCode)), commissionerName(owner), commissionerName(p.CommissionerCode))
	}
	return nil
}

// SetSubICBLocation sets the PCN's sub-ICB location from its resource name
// ("" for none), as a request gives it; the store checks it against the
// PCN's commissioner when it is written.
func (p *PCN) SetSubICBLocation(field, name string) error {
	if name == "" {
		p.SubICBLocationCode, p.subICBNamedUnder = "", ""
		return nil
	}
	commissioner, code, err := ParseSubICBLocationName(field, name)
	if err != nil {
		return err
	}
	p.SubICBLocationCode, p.subICBNamedUnder = OptionalCode(code), commissioner
	return nil
}

// SubICBLocationName is the resource name of a PCN's (or a statistic's)
// sub-ICB location: "" when it has none.
func SubICBLocationName(commissioner, code string) string {
	if code == "" {
		return ""
	}
	return subICBLocationName(commissioner, code)
}
