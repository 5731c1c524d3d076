package cpd

import (
	"context"
	"errors"
	"strconv"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"arrs.nhs.uk/arrs/claims"
)

// Store reads and writes the CPD ledger through the claims store's
// transactions, idempotency and audit trail. Like it, it holds nothing but
// the shared pool, so any number of replicas can share one database.
type Store struct {
	cs *claims.Store
	db *sqlx.DB
}

// NewStore returns a Store over the claims store cs.
func NewStore(cs *claims.Store) *Store { return &Store{cs: cs, db: cs.DB()} }

// Today is the civil date in England by the store's clock.
func (s *Store) Today() claims.Date { return s.cs.Today() }

// args builds positional arguments for conditions that depend on the actor.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// servedBy is the SQL for the practices hub serves on today.
func servedBy(hub, today string) string {
	return `(SELECT ods_code FROM training_hub_practices WHERE hub_id = ` + hub +
		` AND valid_from <= ` + today + ` AND (valid_to IS NULL OR valid_to >= ` + today + `))`
}

// practiceCondition limits col (a practice ODS code column) to the
// practices the actor may see: its own for a practice manager, those its
// hub serves today for a hub officer, every one for national staff and
// arrs itself, none for anyone else (PCN and commissioner staff).
func (s *Store) practiceCondition(ctx context.Context, col string, a *args) string {
	act, ok := claims.ActorFrom(ctx)
	switch {
	case !ok:
		return "false"
	case act.Role == claims.RoleSystem || act.OrgKind == claims.OrgNational:
		return "true"
	case act.OrgKind == claims.OrgPractice && act.OrgCode != "":
		return col + " = " + a.add(act.OrgCode)
	case act.OrgKind == claims.OrgTrainingHub && act.OrgCode != "":
		return col + " IN " + servedBy(a.add(act.OrgCode), a.add(s.cs.Today()))
	}
	return "false"
}

// hubCondition limits col (a hub id column) to the hubs the actor may see:
// its own hub, the hubs serving its practice today, or all of them.
func (s *Store) hubCondition(ctx context.Context, col string, a *args) string {
	act, ok := claims.ActorFrom(ctx)
	switch {
	case !ok:
		return "false"
	case act.Role == claims.RoleSystem || act.OrgKind == claims.OrgNational:
		return "true"
	case act.OrgKind == claims.OrgTrainingHub && act.OrgCode != "":
		return col + " = " + a.add(act.OrgCode)
	case act.OrgKind == claims.OrgPractice && act.OrgCode != "":
		today := a.add(s.cs.Today())
		return col + ` IN (SELECT hub_id FROM training_hub_practices WHERE ods_code = ` + a.add(act.OrgCode) +
			` AND valid_from <= ` + today + ` AND (valid_to IS NULL OR valid_to >= ` + today + `))`
	}
	return "false"
}

// idOr returns id, a caller's choice (checked before the transaction), or
// a new one.
func idOr(id string) (string, error) {
	if id != "" {
		return id, nil
	}
	return newID()
}

// newID is a UUIDv7: unique across replicas, and sorted by creation, so
// keyset listings run oldest first.
func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// pcnOf is the PCN a practice belongs to today, whose audit chain the
// practice's CPD events join; "" (the national chain) if none.
func pcnOf(ctx context.Context, q sqlx.QueryerContext, ods string) (string, error) {
	var pcn []string
	if err := sqlx.SelectContext(ctx, q, &pcn, `SELECT pcn_code FROM pcn_practices WHERE ods_code = $1`, ods); err != nil {
		return "", err
	}
	if len(pcn) == 0 {
		return "", nil
	}
	return pcn[0], nil
}

// constraintErrors explain the ledger's constraints in the caller's terms,
// matched by constraint name, never message text. They are the last line
// of defence: the store's checks under row locks normally come first.
var constraintErrors = map[string]func() error{
	"cpd_allocations_within": func() error {
		return claims.FailedPrecondition("", "INSUFFICIENT_BALANCE", "the allocation's remaining balance cannot go below zero")
	},
	"training_hub_practices_one_hub": func() error {
		return claims.AlreadyExists("", "a practice is served by one Training Hub at a time, and one of these practices already has a hub on some of these dates")
	},
	"cpd_courses_places_left": func() error {
		return claims.FailedPrecondition("", "NO_PLACES_LEFT", "every place on the course is allocated")
	},
}

// dbError turns a named constraint's violation into its domain error; the
// claims store maps the rest.
func dbError(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		if e, ok := constraintErrors[pqErr.Constraint]; ok {
			return e()
		}
	}
	return err
}

// once is claims.Once with the ledger's constraint errors.
func once[T any](ctx context.Context, s *Store, req claims.Request,
	do func(tx *sqlx.Tx) (T, string, error),
	get func(ctx context.Context, q sqlx.QueryerContext, name string) (T, error),
) (T, error) {
	return claims.Once(ctx, s.cs, req, func(tx *sqlx.Tx) (T, string, error) {
		out, name, err := do(tx)
		return out, name, dbError(err)
	}, get)
}

// lockRow locks one row of table (within the actor's practice or hub
// scope, scopeCol) for update and checks the caller's etag against its
// revision. A row out of scope is NOT_FOUND.
func (s *Store) lockRow(ctx context.Context, tx *sqlx.Tx, name, etag, table, where, scopeCol string, hub bool, key ...any) (int64, error) {
	a := args(key)
	var cond string
	if hub {
		cond = s.hubCondition(ctx, scopeCol, &a)
	} else {
		cond = s.practiceCondition(ctx, scopeCol, &a)
	}
	var revision int64
	if err := claims.GetOne(ctx, tx, &revision, name,
		`SELECT revision FROM `+table+` WHERE `+where+` AND `+cond+` FOR UPDATE`, a...); err != nil {
		return 0, err
	}
	return revision, claims.CheckEtag(name, etag, revision)
}
