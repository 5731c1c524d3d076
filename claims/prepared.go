package claims

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// Statements prepared once per connection.
//
// lib/pq sends a statement with parameters as an unnamed statement: parse,
// describe, then bind and execute, two round trips and a parse and plan
// every time. A statement prepared with database/sql is parsed once per
// connection and then bound and executed in one round trip; pgbench of
// SubmitClaim's transaction ran 1.4–1.6× as many transactions a second
// prepared (bench/national). So the statements a store's transactions and
// single-resource reads send are prepared, keyed by their SQL, the first
// time each is sent, and database/sql prepares each again on every other
// connection the first time it runs there (Tx.StmtContext).

// maxPrepared bounds how many statements a store keeps prepared. arrs's
// SQL is written in the code, so the distinct texts number a few hundred at
// most (a scoped statement has one text per kind of scope); a statement
// beyond the bound runs unprepared, as it would without the registry.
const maxPrepared = 512

// statements is a store's registry of prepared statements, by their SQL.
//
// database/sql prepares a DB-level statement on a connection of its own
// from the pool, while the caller already holds one for its transaction:
// were every connection held by a transaction waiting to prepare, none
// would come free. So a statement met for the first time is prepared in the
// background, and the call that met it runs it unprepared; later calls run
// it prepared.
type statements struct {
	db      *sqlx.DB
	mu      sync.RWMutex
	byText  map[string]*sqlx.Stmt
	pending map[string]bool
	closed  bool
}

func newStatements(db *sqlx.DB) *statements {
	return &statements{db: db, byText: map[string]*sqlx.Stmt{}, pending: map[string]bool{}}
}

// get returns query prepared, or nil when it is not prepared (yet): it then
// runs unprepared, as it would without the registry.
func (r *statements) get(query string) *sqlx.Stmt {
	r.mu.RLock()
	st, ok := r.byText[query]
	wait := r.pending[query] || r.closed || len(r.byText)+len(r.pending) >= maxPrepared
	r.mu.RUnlock()
	if ok || wait {
		return st
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byText[query]; ok || r.pending[query] {
		return r.byText[query]
	}
	r.pending[query] = true
	go r.prepare(query)
	return nil
}

// prepareWait bounds how long preparing a statement in the background may
// wait for a connection; one that does not come is tried again on the
// statement's next call.
const prepareWait = 10 * time.Second

func (r *statements) prepare(query string) {
	ctx, cancel := context.WithTimeout(context.Background(), prepareWait)
	defer cancel()
	st, err := r.db.PreparexContext(ctx, query)
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pending, query)
	switch {
	case err != nil:
		// Unprepared, the statement fails where its caller sees the error.
	case r.closed:
		_ = st.Close()
	default:
		r.byText[query] = st
	}
}

// close closes every prepared statement: on each connection it was
// prepared on, it is deallocated.
func (r *statements) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	var first error
	for q, st := range r.byText {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(r.byText, q)
	}
	return first
}

// txn is a transaction whose statements run prepared. It is a *sqlx.Tx, so
// what is not overridden here (NamedExecContext, the audit trail's appends)
// runs as the plain transaction would.
type txn struct {
	*sqlx.Tx
	stmts *statements
}

// prepared returns the transaction's own handle on query prepared, or nil.
func (t *txn) prepared(ctx context.Context, query string) *sqlx.Stmt {
	st := t.stmts.get(query)
	if st == nil {
		return nil
	}
	return t.StmtxContext(ctx, st)
}

func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *txn) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	if st := t.prepared(ctx, query); st != nil {
		return st.QueryxContext(ctx, args...)
	}
	return t.Tx.QueryxContext(ctx, query, args...)
}

func (t *txn) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	if st := t.prepared(ctx, query); st != nil {
		return st.QueryRowxContext(ctx, args...)
	}
	return t.Tx.QueryRowxContext(ctx, query, args...)
}

func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *txn) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	return sqlx.GetContext(ctx, t, dest, query, args...)
}

func (t *txn) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	return sqlx.SelectContext(ctx, t, dest, query, args...)
}
