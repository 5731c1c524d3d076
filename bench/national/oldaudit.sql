-- The audit trail's tables and functions as migration 00005 made them, in a
-- schema of their own, for submit_oldaudit.pgbench: the one national head
-- row, and the hash computed in SQL. Only what the append touches; none of
-- the triggers, which the append never fires.
CREATE SCHEMA IF NOT EXISTS audit_v1;
CREATE OR REPLACE FUNCTION audit_v1.audit_genesis_hash() RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT sha256(convert_to('arrs audit genesis', 'UTF8')) $$;
CREATE OR REPLACE FUNCTION audit_v1.audit_event_hash(
    prev_hash bytea, seq bigint, event_time timestamptz, subject text, role text, organisation text,
    rpc text, request_id text, resource text, action text, pcn_code text, before jsonb, after jsonb
) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(prev_hash || convert_to(jsonb_build_array(
        seq, (extract(epoch FROM event_time) * 1000000)::bigint, subject, role, organisation,
        rpc, request_id, resource, action, pcn_code, before, after)::text, 'UTF8'))
$$;
CREATE TABLE IF NOT EXISTS audit_v1.audit_events (
    seq bigint PRIMARY KEY, event_time timestamptz NOT NULL, subject text NOT NULL, role text NOT NULL,
    organisation text NOT NULL, rpc text NOT NULL, request_id text NOT NULL, resource text COLLATE "C" NOT NULL,
    action text NOT NULL, pcn_code text COLLATE "C", before jsonb, after jsonb, prev_hash bytea NOT NULL,
    hash bytea NOT NULL);
-- Compressed as arrsd's audit_events are now (migration 00019), so that the
-- comparison is of the chains' design, not of the compression.
DO $$ BEGIN
    ALTER TABLE audit_v1.audit_events ALTER COLUMN before SET COMPRESSION lz4, ALTER COLUMN after SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN NULL;
END $$;
CREATE INDEX IF NOT EXISTS audit_events_resource ON audit_v1.audit_events (resource, seq);
CREATE INDEX IF NOT EXISTS audit_events_pcn ON audit_v1.audit_events (pcn_code, seq);
CREATE TABLE IF NOT EXISTS audit_v1.audit_head (
    id boolean PRIMARY KEY DEFAULT true CHECK (id), seq bigint NOT NULL, hash bytea NOT NULL);
INSERT INTO audit_v1.audit_head (seq, hash) VALUES (0, audit_v1.audit_genesis_hash()) ON CONFLICT DO NOTHING;
