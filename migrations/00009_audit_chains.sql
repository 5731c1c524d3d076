-- The audit trail becomes one chain per organisation, each event
-- authenticated with a key the database never holds (claims/audit.go,
-- internal/auditkey).
--
-- Before, every event of the country joined one chain whose head row every
-- write locked, so writes of unrelated PCNs queued behind each other; and
-- its SHA-256 hash needed no secret, so anyone able to INSERT (the
-- application's own role) could append an event that verified. Now an event
-- joins its PCN's chain (reference data: the chain 'national'), so only
-- writes of one PCN queue on one head; and its MAC is computed by arrsd with
-- a key from outside the database and checked by arrsd, so a row written by
-- someone without the key does not verify. Truncating a chain and rewinding
-- its head is what the chains alone cannot show: signed checkpoints of
-- every head, kept outside the database, catch that (docs/audit.md).
--
-- Events recorded before this migration keep what they had: they become
-- the chain 'legacy', frozen, with key id 'sha256-v1' meaning "hash-chained
-- without a key, as they were written"; verification checks them with the
-- old rule, and the first checkpoint fixes their head.

-- +goose Up
ALTER TABLE audit_events
    ADD COLUMN chain     text COLLATE "C",
    ADD COLUMN chain_seq bigint,
    ADD COLUMN key_id    text,
    ADD COLUMN prev_mac  bytea,
    ADD COLUMN mac       bytea;

-- The append-only trigger refuses this rewrite, which only the migration
-- may make: it runs as the table's owner, in its own transaction.
ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
UPDATE audit_events SET chain = 'legacy', chain_seq = seq, key_id = 'sha256-v1', prev_mac = prev_hash, mac = hash;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;

ALTER TABLE audit_events
    DROP COLUMN prev_hash,
    DROP COLUMN hash,
    ALTER COLUMN chain SET NOT NULL,
    ALTER COLUMN chain_seq SET NOT NULL,
    ALTER COLUMN key_id SET NOT NULL,
    ALTER COLUMN prev_mac SET NOT NULL,
    ALTER COLUMN mac SET NOT NULL,
    ADD CONSTRAINT audit_events_chain_position UNIQUE (chain, chain_seq),
    ADD CONSTRAINT audit_events_chain_seq_positive CHECK (chain_seq > 0),
    ADD CONSTRAINT audit_events_mac_length CHECK (length(mac) = 32 AND length(prev_mac) = 32);

-- seq names an event (auditEvents/{seq}) and orders the whole trail for
-- listing. It comes from a sequence now, not from a national head: it
-- increases, with gaps where a transaction rolled back.
-- +goose StatementBegin
DO $$
DECLARE
    legacy bigint := (SELECT COALESCE(max(seq), 0) FROM audit_events);
BEGIN
    EXECUTE format('CREATE SEQUENCE audit_events_seq AS bigint START %s OWNED BY audit_events.seq', legacy + 1);
    -- No one adds to the legacy chain: events written after this
    -- migration carry a MAC. The bound is this database's own, so it is
    -- written into the constraint here.
    EXECUTE format($c$ALTER TABLE audit_events ADD CONSTRAINT audit_events_legacy_frozen
        CHECK ((chain = 'legacy') = (key_id = 'sha256-v1') AND (chain <> 'legacy' OR seq <= %s))$c$, legacy);
END
$$;
-- +goose StatementEnd

-- Each chain's newest event: its chain_seq and MAC. Appends lock their
-- chains' rows, so a chain has neither gaps nor forks, and the head shows
-- when a chain's newest events have been removed.
CREATE TABLE audit_heads (
    chain text COLLATE "C" PRIMARY KEY CHECK (chain <> ''),
    seq   bigint NOT NULL CHECK (seq >= 0),
    -- NULL until the chain's first event.
    mac   bytea,
    CONSTRAINT audit_heads_mac_from_first_event CHECK ((seq = 0) = (mac IS NULL))
);

INSERT INTO audit_heads (chain, seq, mac)
SELECT 'legacy', seq, hash FROM audit_head WHERE seq > 0;

DROP TABLE audit_head;
DROP FUNCTION audit_head_current();
DROP FUNCTION audit_head_advance();
-- Verification no longer hashes in the database: a superuser could replace
-- the function to hide an edit.
DROP FUNCTION audit_event_hash(bytea, bigint, timestamptz, text, text, text, text, text, text, text, text, jsonb, jsonb);
DROP FUNCTION audit_genesis_hash();

CREATE TRIGGER audit_heads_keep BEFORE DELETE ON audit_heads
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();

-- A head moves forward only and stays on its chain: rewinding it would let
-- the next append collide with an existing event, and skipping ahead would
-- leave a gap.
-- +goose StatementBegin
CREATE FUNCTION audit_head_advance() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.chain <> OLD.chain OR NEW.seq <= OLD.seq THEN
        RAISE EXCEPTION 'audit head % may only advance, not go from % to %', OLD.chain, OLD.seq, NEW.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_heads_advance BEFORE UPDATE ON audit_heads
    FOR EACH ROW EXECUTE FUNCTION audit_head_advance();

-- Checked at commit, once the transaction's events are visible: a head
-- names its chain's newest event, exactly. One index probe per head moved.
-- +goose StatementBegin
CREATE FUNCTION audit_head_current() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    head audit_heads;
BEGIN
    SELECT * INTO head FROM audit_heads WHERE chain = NEW.chain;
    IF NOT EXISTS (SELECT 1 FROM audit_events WHERE chain = head.chain AND chain_seq = head.seq AND mac = head.mac)
       OR EXISTS (SELECT 1 FROM audit_events WHERE chain = head.chain AND chain_seq > head.seq) THEN
        RAISE EXCEPTION 'audit head % must name its newest event, not %', head.chain, head.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER audit_heads_current AFTER UPDATE ON audit_heads
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_head_current();

-- +goose Down
-- The keyed chains cannot be turned back into one SHA-256 chain without
-- recomputing every hash, which is what the trail exists to prevent.
SELECT 1/0 AS audit_chains_cannot_be_undone;
