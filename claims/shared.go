package claims

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// What a sibling domain package (package cpd, the Training Hub ledger)
// shares with this one: the store's transactions, its request_id
// idempotency and its audit trail. Sharing them, rather than copying them,
// keeps one audit chain per PCN and one request_ids table, so a CPD write is
// audited and replayed exactly as a claim's is.

// Once runs do in one transaction, idempotently on req (AIP-155): a
// request_id seen before returns get of the resource the first call named,
// a request_id reused for another request is INVALID_ARGUMENT. do returns
// the result and the resource name a replay reads back.
func Once[T any](ctx context.Context, s *Store, req Request,
	do func(tx *sqlx.Tx) (T, string, error),
	get func(ctx context.Context, q sqlx.QueryerContext, name string) (T, error),
) (T, error) {
	return once(ctx, s, req, func(tx *txn) (T, string, error) { return do(tx.Tx) }, get)
}

// Snapshot runs read in one read-only REPEATABLE READ transaction, so a
// read made of several statements sees one moment.
func Snapshot[T any](ctx context.Context, s *Store, read func(q sqlx.QueryerContext) (T, error)) (T, error) {
	return readAt(ctx, s, false, read)
}

// AppendAudit records writes made in tx in the audit trail, as the last
// step of the write's transaction (see appendAudits): the events commit or
// roll back with the write.
func (s *Store) AppendAudit(ctx context.Context, tx *sqlx.Tx, records ...AuditRecord) error {
	return s.appendAudits(ctx, &txn{tx, s.stmts}, records)
}

// Today is the current civil date in England by the store's clock.
func (s *Store) Today() Date { return s.today() }
