-- The commit-time check that a chain's head names its newest event, in one
-- index probe that cannot become a scan.
--
-- 00009 asked two questions at every commit that moved a head: is there an
-- event at the head with its MAC, and is there one beyond it. PL/pgSQL keeps
-- a generic plan per connection, made from the statistics of the moment;
-- planned while audit_events was small, the second question stayed a
-- sequential scan of the whole table (bench/national: 4-7 ms a commit after
-- only a thousand events, and growing with the trail). One backward walk of
-- (chain, chain_seq) answers both: the chain's newest event must be the
-- head's, seq and MAC. enable_seqscan is off inside the function so that no
-- plan, whatever the statistics, reads more than that one index entry.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_head_current() RETURNS trigger
    LANGUAGE plpgsql
    SET enable_seqscan = off
AS $$
DECLARE
    head       audit_heads;
    newest_seq bigint;
    newest_mac bytea;
BEGIN
    SELECT * INTO head FROM audit_heads WHERE chain = NEW.chain;
    SELECT chain_seq, mac INTO newest_seq, newest_mac
        FROM audit_events WHERE chain = head.chain ORDER BY chain_seq DESC LIMIT 1;
    IF newest_seq IS DISTINCT FROM head.seq OR newest_mac IS DISTINCT FROM head.mac THEN
        RAISE EXCEPTION 'audit head % must name its newest event, not %', head.chain, head.seq
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_head_current() RETURNS trigger
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
ALTER FUNCTION audit_head_current() RESET enable_seqscan;
-- +goose StatementEnd
