package claims

import (
	"cmp"
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
	_ "time/tzdata" // Europe/London, wherever arrsd runs

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"arrs.nhs.uk/arrs/internal/auditkey"
)

// Store reads and writes the ARRS domain in PostgreSQL. It is safe for
// concurrent use and holds no state beyond the connection pool, so any number
// of arrsd replicas can share one database.
type Store struct {
	db    *sqlx.DB
	now   func() time.Time
	keys  *auditkey.Ring
	stmts *statements
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read the time from now, so tests can stand on
// any day (claims are in arrears, and deadlines pass).
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// WithoutPreparedStatements makes the store send every statement as text,
// unprepared, as lib/pq does by itself: the baseline against which a
// benchmark measures what preparing buys.
func WithoutPreparedStatements() Option {
	return func(s *Store) { s.stmts.closed = true }
}

// WithAuditKeys gives the store the keys that authenticate the audit trail
// (internal/auditkey). arrsd always passes them; without them the store uses
// insecureAuditKeys, which anyone can read here and which is for tests.
func WithAuditKeys(keys *auditkey.Ring) Option {
	return func(s *Store) { s.keys = keys }
}

// insecureAuditKeys authenticate the audit trail of a store given no keys:
// tests, which make several stores over one database and need them to
// agree. The secret is in this source, so events under it prove nothing;
// arrsd never uses it (cmd/arrsd).
var insecureAuditKeys = func() *auditkey.Ring {
	r, err := auditkey.New("insecure-test-key", map[string][]byte{
		"insecure-test-key": []byte("arrs insecure test audit key, public in the source"),
	})
	if err != nil {
		panic(err)
	}
	return r
}()

// NewStore returns a Store over db.
func NewStore(db *sqlx.DB, opts ...Option) *Store {
	s := &Store{db: db, now: time.Now, keys: insecureAuditKeys, stmts: newStatements(db)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// At returns a store like s, sharing its pool and keys, whose clock reads
// now: the demo tells its stories on the days they happened.
func (s *Store) At(now func() time.Time) *Store {
	c := *s
	c.now = now
	return &c
}

// Close releases the statements the store prepared; the pool is the
// caller's to close, after the store. A closed store still works, with every
// statement unprepared.
func (s *Store) Close() error { return s.stmts.close() }

// london is the calendar the scheme's dates are in. The tzdata import
// embeds it, so a machine without a zoneinfo database still knows it.
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return loc
}()

// Now is the store's clock: the time every rule and timestamp is taken from.
func (s *Store) Now() time.Time { return s.now() }

// today is the current civil date in England.
func (s *Store) today() Date { return DateOf(s.now().In(london)) }

// WithTx runs fn in one transaction and commits it when fn returns nil. Every
// write in arrs goes through here, so a write is all-or-nothing and database
// constraint violations come back as domain errors.
func (s *Store) WithTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return s.inTx(ctx, func(tx *txn) error { return fn(tx.Tx) })
}

// inTx is WithTx with the transaction's statements prepared (see txn).
func (s *Store) inTx(ctx context.Context, fn func(tx *txn) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// A write's statements are prepared once per connection (txn) and find
	// their rows by key, so one plan serves every call. Left to choose,
	// PostgreSQL weighs a statement's generic plan against the average of
	// the custom plans it made first, which a connection made while the
	// tables were small: it went on planning the submission's posts and
	// entitlement-use statements afresh on every call, most of what
	// PostgreSQL spent on them (pg_stat_statements with track_planning,
	// bench/national). The setting lasts until the transaction ends, so
	// reads and listings, whose optional filters want each call's values,
	// still plan as they choose.
	if _, err := tx.ExecContext(ctx, "SET LOCAL plan_cache_mode = force_generic_plan"); err != nil {
		_ = tx.Rollback()
		return dbError(fmt.Errorf("begin: %w", err))
	}
	if err := fn(&txn{tx, s.stmts}); err != nil {
		_ = tx.Rollback()
		return dbError(err)
	}
	if err := tx.Commit(); err != nil {
		return dbError(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// snapshot runs read in one read-only REPEATABLE READ transaction, so that
// a read made of several statements (a claim and its lines, a budget's sums
// and forecast, the review queue and its flags) sees one moment: a write
// committing meanwhile is either wholly in its figures or wholly out. Its
// statements run prepared: a single resource's read is a hot path.
func snapshot[T any](ctx context.Context, s *Store, read func(q sqlx.QueryerContext) (T, error)) (T, error) {
	return readAt(ctx, s, true, read)
}

// readAt is snapshot, with the statements prepared or not.
func readAt[T any](ctx context.Context, s *Store, prepare bool, read func(q sqlx.QueryerContext) (T, error)) (T, error) {
	var out T
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return out, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to keep
	if prepare {
		return read(&txn{tx, s.stmts})
	}
	return read(tx)
}

// snapshotPage is snapshot for a listing: its rows and the key to continue
// after.
func snapshotPage[T any](ctx context.Context, s *Store, read func(q sqlx.QueryerContext) ([]T, string, error)) ([]T, string, error) {
	type page struct {
		rows []T
		next string
	}
	// A listing's statements filter on parameters that may be empty ("any
	// state"); prepared, PostgreSQL may settle on one generic plan for every
	// filter, so they are planned afresh each time instead.
	p, err := readAt(ctx, s, false, func(q sqlx.QueryerContext) (page, error) {
		rows, next, err := read(q)
		return page{rows, next}, err
	})
	return p.rows, p.next, err
}

// dbError turns a constraint violation the database caught into a domain
// error. Validation normally catches these first; the constraints are the
// last line of defence, for example against two racing requests.
func dbError(err error) error {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) {
		return err
	}
	if e, ok := constraintErrors[pqErr.Constraint]; ok {
		return e
	}
	switch pqErr.Code {
	case "23505", "23P01": // unique_violation, exclusion_violation
		return &Error{Kind: KindAlreadyExists, Reason: "RESOURCE_EXISTS",
			Message: "a conflicting resource exists (" + pqErr.Constraint + ")"}
	case "23503": // foreign_key_violation
		return &Error{Kind: KindFailedPrecondition, Reason: "REFERENCE_MISSING",
			Message: "a referenced resource does not exist (" + pqErr.Constraint + ")"}
	case "40001", "40P01": // serialization failure, deadlock: worth a retry
		return &Error{Kind: KindConflict, Reason: "RETRY", Message: "the request collided with another; retry it"}
	case "23514", "23502", "22001", "22003": // check, not null, too long, out of range
		return &Error{Kind: KindInvalid, Reason: "CONSTRAINT_VIOLATED",
			Message: "the request breaks a rule of the database (" + cmp.Or(pqErr.Constraint, pqErr.Column) + ")"}
	}
	return err
}

// constraintErrors explains, in the caller's terms, the constraints whose
// violation means something more precise than "a conflict": they are
// matched by the constraint's name on the error, never by its message.
var constraintErrors = map[string]*Error{
	"posts_role_in_scope": {Kind: KindInvalid, Reason: "INVALID_ARGUMENT", Message: "the request has invalid fields",
		Violations: []Violation{{Field: "post.role", Rule: "UNKNOWN_ROLE", Description: "the role is not in the PCN's role catalogue"}}},
	"posts_no_overlapping_person": {Kind: KindAlreadyExists, Reason: "PERSON_ALREADY_IN_POST",
		Message: "this person already holds a post in this role on some of these dates"},
}

// Page asks for one page of a keyset-ordered listing.
type Page struct {
	// After is the resource name of the last item of the previous page.
	After string
	// Size is how many items to return; the caller has already bounded it.
	Size int
}

// pageOf trims a result fetched with Size+1 rows to Size and says whether
// more follow, returning the key to continue after.
func pageOf[T interface{ Name() string }](rows []T, size int) ([]T, string) {
	if len(rows) <= size {
		return rows, ""
	}
	rows = rows[:size]
	return rows, rows[size-1].Name()
}

// Etag renders a row revision as an opaque AIP-154 etag.
func Etag(revision int64) string {
	return strconv.FormatInt(revision, 36)
}

// checkEtag fails with ETAG_MISMATCH when the caller sent an etag that is no
// longer current; an empty etag means "whatever is there".
func checkEtag(resource, etag string, revision int64) error {
	if etag != "" && etag != Etag(revision) {
		return EtagMismatch(resource)
	}
	return nil
}

// Request identifies a create call for idempotency (AIP-155).
type Request struct {
	// ID is the caller's request_id (a UUID), or empty.
	ID string
	// Method is the full RPC name: a request_id is bound to one method.
	Method string
	// Fingerprint is a digest of the request: a request_id reused with a
	// different request is an error, not a replay.
	Fingerprint []byte
}

func (r Request) check() error {
	if r.ID == "" {
		return nil
	}
	if _, err := uuid.Parse(r.ID); err != nil {
		return Invalid("request_id", "REQUEST_ID_FORMAT", "request_id must be a UUID")
	}
	return nil
}

// once runs do in a transaction unless req.ID was seen before, in which case
// it returns the resource as it is now, after the first call. Creates and
// state transitions (submit, approve, pay) are both made idempotent by it. A
// retry racing the first call waits on the request_ids row until the first
// commits or rolls back.
func once[T any](ctx context.Context, s *Store, req Request,
	do func(tx *txn) (T, string, error),
	get func(ctx context.Context, q sqlx.QueryerContext, name string) (T, error),
) (T, error) {
	var out T
	if err := req.check(); err != nil {
		return out, err
	}
	err := s.inTx(ctx, func(tx *txn) error {
		if req.ID != "" {
			// Two statements, not one: in READ COMMITTED only a new statement
			// sees the row a concurrent first call has just committed.
			res, err := tx.ExecContext(ctx, `INSERT INTO request_ids (request_id, method, fingerprint)
				VALUES ($1, $2, $3) ON CONFLICT (request_id) DO NOTHING`, req.ID, req.Method, req.Fingerprint)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return replay(ctx, tx, req, get, &out)
			}
		}
		var name string
		var err error
		out, name, err = do(tx)
		if err != nil {
			return err
		}
		if req.ID != "" {
			_, err = tx.ExecContext(ctx, `UPDATE request_ids SET resource_name = $2 WHERE request_id = $1`, req.ID, name)
		}
		return err
	})
	return out, err
}

// replay answers a repeated request_id with what the first call created.
func replay[T any](ctx context.Context, tx *txn, req Request,
	get func(ctx context.Context, q sqlx.QueryerContext, name string) (T, error), out *T,
) error {
	var first struct {
		Method       string `db:"method"`
		Fingerprint  []byte `db:"fingerprint"`
		ResourceName string `db:"resource_name"`
	}
	if err := tx.GetContext(ctx, &first,
		`SELECT method, fingerprint, resource_name FROM request_ids WHERE request_id = $1`, req.ID); err != nil {
		return err
	}
	if first.Method != req.Method || subtle.ConstantTimeCompare(first.Fingerprint, req.Fingerprint) != 1 {
		return Invalid("request_id", "REQUEST_ID_REUSED", "request_id was already used for a different request")
	}
	var err error
	*out, err = get(ctx, tx, first.ResourceName)
	return err
}

// getOne reads one row into dest, turning "no rows" into NOT_FOUND for name.
func getOne(ctx context.Context, q sqlx.QueryerContext, dest any, name, query string, args ...any) error {
	err := sqlx.GetContext(ctx, q, dest, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return NotFound(name)
	}
	return err
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// DB exposes the pool for tests and tools that inspect the database directly.
func (s *Store) DB() *sqlx.DB { return s.db }

// mutation describes one resource's update for update: how to find, lock and
// read its row, how to change and check it, and how to write it back.
type mutation[T any] struct {
	// table and where (on the key, as $1, $2…) find the row; scopeCol is
	// its PCN column when the actor's scope applies, else "".
	table, where, scopeCol string
	key                    []any
	name                   string
	// pcn is the PCN the resource belongs to, for the audit trail.
	pcn    string
	action string
	get    func(ctx context.Context, q sqlx.QueryerContext, name string) (T, error)
	// apply changes next, a copy of cur, restores what is immutable and
	// checks the result; write stores it.
	apply func(tx *txn, cur T, next *T) error
	write func(tx *txn, next T) error
}

// update runs the cycle every change to a stored resource shares, in one
// transaction: lock the row (within the actor's scope) and check the
// caller's etag, read it, let apply change a copy, write it, read it back,
// and record before and after in the audit trail.
func update[T any](ctx context.Context, s *Store, m mutation[T], etag string) (T, error) {
	var out T
	err := s.inTx(ctx, func(tx *txn) error {
		if err := lockAndCheck(ctx, tx, m.table, m.where, m.scopeCol, m.name, etag, m.key...); err != nil {
			return err
		}
		cur, err := m.get(ctx, tx, m.name)
		if err != nil {
			return err
		}
		next := cur
		if err := m.apply(tx, cur, &next); err != nil {
			return err
		}
		if err := m.write(tx, next); err != nil {
			return err
		}
		if out, err = m.get(ctx, tx, m.name); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, m.name, cmp.Or(m.action, "update"), m.pcn, cur, out)
	})
	return out, err
}

// validated runs a validate method and returns its violations as an error.
func validated(validate func(*Violations)) error {
	var vs Violations
	validate(&vs)
	return vs.Err()
}

// attach fills in, with one query, what belongs to each of parents: query
// takes the parents' keys as $1 (a text array) and returns rows of type R,
// which add appends to the parent whose key rowKey names. It spares every
// listing an N+1 loop.
func attach[P, R any](ctx context.Context, q sqlx.QueryerContext, parents []P, key func(P) string,
	query string, rowKey func(R) string, add func(*P, R)) error {
	if len(parents) == 0 {
		return nil
	}
	index := make(map[string]int, len(parents))
	keys := make([]string, len(parents))
	for i, p := range parents {
		keys[i] = key(p)
		index[keys[i]] = i
	}
	var rows []R
	if err := sqlx.SelectContext(ctx, q, &rows, query, pq.Array(keys)); err != nil {
		return err
	}
	for _, r := range rows {
		add(&parents[index[rowKey(r)]], r)
	}
	return nil
}
