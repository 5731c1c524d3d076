package pgtest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Counter counts the SQL statements sent through a database opened by
// NewCountingDB, so that a test can hold a method to the statements it
// costs: every statement is a round trip (two, unprepared, with lib/pq's
// extended protocol), and a count that creeps up is a regression no timed
// test on a shared machine would catch.
type Counter struct {
	mu         sync.Mutex
	statements []string
	prepares   int
	unprepared []string
}

// Reset forgets what was counted so far.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.statements, c.prepares, c.unprepared = nil, 0, nil
}

// Statements are the statements executed since the last Reset, in order,
// whether sent as text or run from a prepared statement. BEGIN, COMMIT and
// ROLLBACK are not among them: every transaction has them.
func (c *Counter) Statements() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.statements...)
}

// Prepares is how many statements were prepared since the last Reset.
func (c *Counter) Prepares() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.prepares
}

// Unprepared are those of Statements sent as text, not run from a prepared
// statement.
func (c *Counter) Unprepared() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.unprepared...)
}

func (c *Counter) add(query string, prepared bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.statements = append(c.statements, query)
	if !prepared {
		c.unprepared = append(c.unprepared, query)
	}
}

func (c *Counter) prepared() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prepares++
}

// NewCountingDB is NewDB with every statement counted by the Counter it
// returns. The driver is lib/pq behind a thin wrapper, so what is counted is
// what arrsd sends.
func NewCountingDB(t testing.TB) (*sqlx.DB, *Counter) {
	t.Helper()
	pc, err := pq.NewConnector(NewDatabase(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	c := &Counter{}
	db := sqlx.NewDb(sql.OpenDB(countingConnector{pc, c}), "postgres")
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return db, c
}

type countingConnector struct {
	next    driver.Connector
	counter *Counter
}

func (cc countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := cc.next.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{conn: conn, counter: cc.counter}, nil
}

func (cc countingConnector) Driver() driver.Driver { return cc.next.Driver() }

// countingConn is lib/pq's connection with its statements counted. It
// forwards every optional interface lib/pq implements, so database/sql uses
// the connection exactly as it would lib/pq's own.
type countingConn struct {
	conn    driver.Conn
	counter *Counter
}

func (c *countingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.counter.prepared()
	return &countingStmt{st, query, c.counter}, nil
}

func (c *countingConn) Close() error { return c.conn.Close() }

func (c *countingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.counter.add(query, false)
	return c.conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.counter.add(query, false)
	return c.conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}

func (c *countingConn) Ping(ctx context.Context) error { return c.conn.(driver.Pinger).Ping(ctx) }

func (c *countingConn) ResetSession(ctx context.Context) error {
	return c.conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *countingConn) IsValid() bool { return c.conn.(driver.Validator).IsValid() }

type countingStmt struct {
	driver.Stmt
	query   string
	counter *Counter
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.counter.add(s.query, true)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.counter.add(s.query, true)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}
