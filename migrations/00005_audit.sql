-- The audit trail: one event per write, appended in the write's own
-- transaction, each event's hash covering its predecessor's, so that an
-- event altered, removed or slipped in afterwards breaks the chain.
--
-- The database refuses to change or remove events, even for the role that
-- owns the table. Someone who can bypass triggers (a superuser, with
-- session_replication_role = replica) or drop them (the owner) can still
-- tamper; verification (claims.Store.VerifyAudit) is what detects that.

-- +goose Up

-- The chain starts from a fixed hash, so that removing the oldest events is
-- as visible as removing any other.
-- +goose StatementBegin
CREATE FUNCTION audit_genesis_hash() RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT sha256(convert_to('arrs audit genesis', 'UTF8')) $$;
-- +goose StatementEnd

-- audit_event_hash is the one definition of an event's hash; appends and
-- verification both call it, so the bytes hashed are exactly the stored
-- values. jsonb prints in a canonical form (keys sorted, whitespace fixed),
-- which JSON marshalled in Go would not. The time is hashed as integer
-- microseconds since the epoch because timestamptz's text form depends on the
-- session's TimeZone and DateStyle. IMMUTABLE is true for these argument
-- types even though jsonb_build_array in general is only STABLE: bigint,
-- text and jsonb print the same whatever the session settings. Not STRICT:
-- pcn_code, before and after are often NULL and hash as JSON null.
-- +goose StatementBegin
CREATE FUNCTION audit_event_hash(
    prev_hash bytea, seq bigint, event_time timestamptz, subject text, role text, organisation text,
    rpc text, request_id text, resource text, action text, pcn_code text, before jsonb, after jsonb
) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT sha256(prev_hash || convert_to(jsonb_build_array(
        seq, (extract(epoch FROM event_time) * 1000000)::bigint, subject, role, organisation,
        rpc, request_id, resource, action, pcn_code, before, after)::text, 'UTF8'))
$$;
-- +goose StatementEnd

CREATE TABLE audit_events (
    -- Counts up from 1 without gaps; appends take it from audit_head.
    seq          bigint PRIMARY KEY CHECK (seq > 0),
    -- The writing transaction's start time, equal to the update_time it
    -- wrote; events of overlapping transactions may not be in time order.
    event_time   timestamptz NOT NULL,
    subject      text NOT NULL,
    role         text NOT NULL,
    organisation text NOT NULL,
    rpc          text NOT NULL,
    request_id   text NOT NULL,
    resource     text COLLATE "C" NOT NULL,
    action       text NOT NULL,
    -- The PCN the resource belongs to, so readers see only their PCNs'
    -- events; NULL for national reference data. Never '' or JSON null
    -- below: each would hash differently from, or the same as, SQL NULL
    -- while meaning the same thing.
    pcn_code     text COLLATE "C" CHECK (pcn_code <> ''),
    before       jsonb CHECK (jsonb_typeof(before) <> 'null'),
    after        jsonb CHECK (jsonb_typeof(after) <> 'null'),
    prev_hash    bytea NOT NULL,
    hash         bytea NOT NULL
);

CREATE INDEX audit_events_resource ON audit_events (resource, seq);
CREATE INDEX audit_events_pcn ON audit_events (pcn_code, seq);

-- The newest event's seq and hash. Appends lock this row, which serialises
-- them into one gapless chain, and it shows when the newest events have
-- been removed, which no surviving event could.
CREATE TABLE audit_head (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq  bigint NOT NULL,
    hash bytea NOT NULL
);

INSERT INTO audit_head (seq, hash) VALUES (0, audit_genesis_hash());

-- +goose StatementBegin
CREATE FUNCTION audit_refuse() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: the audit trail is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();

-- Without its one row no event can be appended and verification has
-- nothing to check the newest events against.
CREATE TRIGGER audit_head_keep BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();

-- The head moves one event at a time: rewinding it would let the next
-- append collide with an existing event, and skipping ahead would leave a gap.
-- +goose StatementBegin
CREATE FUNCTION audit_head_advance() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq <= OLD.seq THEN
        RAISE EXCEPTION 'audit_head may only advance, not go from % to %', OLD.seq, NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_head_advance BEFORE UPDATE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_advance();

-- A batch of events moves the head once, to its last event, in the statement
-- that inserts them. Checked when the transaction commits, once every
-- insert is visible: the head names the newest event, exactly.
-- +goose StatementBegin
CREATE FUNCTION audit_head_current() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    head audit_head;
BEGIN
    -- The head as it stands at commit, not as this update left it: a
    -- transaction may move it more than once.
    SELECT * INTO head FROM audit_head;
    IF NOT EXISTS (SELECT 1 FROM audit_events WHERE seq = head.seq AND hash = head.hash)
       OR EXISTS (SELECT 1 FROM audit_events WHERE seq > head.seq) THEN
        RAISE EXCEPTION 'audit_head must name the newest audit event, not %', head.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER audit_head_current AFTER UPDATE ON audit_head
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_head_current();

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_events;
DROP FUNCTION audit_head_current();
DROP FUNCTION audit_head_advance();
DROP FUNCTION audit_refuse();
DROP FUNCTION audit_event_hash(bytea, bigint, timestamptz, text, text, text, text, text, text, text, text, jsonb, jsonb);
DROP FUNCTION audit_genesis_hash();
