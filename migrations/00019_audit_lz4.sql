-- The audit trail's claim documents are compressed with LZ4 instead of
-- PostgreSQL's own pglz.
--
-- A claim's event carries the whole claim with its lines: about 22 KB of
-- JSON for a 30-post PCN, once for a create and twice (before and after)
-- for a submission, which TOAST compresses on insert, inside the write's
-- transaction. LZ4 compresses several times faster than pglz for about the
-- same size on these documents. Events already written keep pglz; both read
-- alike. LZ4 needs a PostgreSQL built with it (Debian's, the official
-- images' and the managed services' are): without it the columns keep
-- pglz, as before.

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    ALTER TABLE audit_events ALTER COLUMN before SET COMPRESSION lz4, ALTER COLUMN after SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'audit_events keeps pglz: %', SQLERRM;
END
$$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE audit_events ALTER COLUMN before SET COMPRESSION default, ALTER COLUMN after SET COMPRESSION default;
