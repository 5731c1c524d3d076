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

// RequireRole lets only the given roles (and arrs itself) do what: the data
// layer's own check behind the server's policy.
func RequireRole(ctx context.Context, what string, roles ...AccessRole) error {
	return requireRole(ctx, what, roles...)
}

// GetOne reads one row into dest, turning "no rows" into NOT_FOUND for name.
func GetOne(ctx context.Context, q sqlx.QueryerContext, dest any, name, query string, args ...any) error {
	return getOne(ctx, q, dest, name, query, args...)
}

// PageOf trims rows fetched with size+1 to size, with the name to continue
// after when more follow.
func PageOf[T interface{ Name() string }](rows []T, size int) ([]T, string) {
	return pageOf(rows, size)
}

// CheckEtag refuses a non-empty etag that is not revision's (ABORTED).
func CheckEtag(resource, etag string, revision int64) error {
	return checkEtag(resource, etag, revision)
}
