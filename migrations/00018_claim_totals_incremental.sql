-- A claim's totals (migration 00016) follow its lines by the statement's own
-- change instead of being worked out again from all its lines.
--
-- The triggers of 00016 recomputed, for every claim a statement touched,
-- counted_pence and the claim_role_totals rows from every line of the
-- claim, through set-based statements over unnest(pcns, ids). Inside
-- PL/pgSQL those statements run on generic plans, which could not know how
-- few claims the arrays hold: the UPDATE of claims became a hash join over
-- a sequential scan of every claim, and the three statements were most of
-- what PostgreSQL spent on a CreateClaim (pg_stat_statements during the
-- national benchmark: 80% of the lines' INSERT, which was 58% of all
-- statement time), growing with the number of claims in the country.
--
-- Now each trigger adds what its statement inserted and takes away what it
-- deleted (an UPDATE does both), read from the transition tables alone, a
-- row per claim and role, each applied by primary key: a few index probes
-- however large the tables grow. The rule is the one in claims.countedPence
-- as before, the approved amount once approved, the claimed amount until
-- then. The totals stay exact because every change to claim_lines passes
-- through one of these triggers (there is no TRUNCATE of it); a total that
-- would go negative or leave a role with no lines but some FTE or pence is
-- an error, not a silent correction, and the tests compare every fixture's
-- totals with its lines (claims/store_test.go).

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION claim_totals_add(pcn text, claim text, role text, lines_delta integer, wte_delta numeric, pence_delta bigint)
    RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF lines_delta > 0 THEN
        -- Lines inserted: a role's first lines make its row.
        INSERT INTO claim_role_totals AS t (pcn_code, claim_id, role_id, lines, wte, counted_pence)
        VALUES (pcn, claim, role, lines_delta, wte_delta, pence_delta)
        ON CONFLICT (pcn_code, claim_id, role_id) DO UPDATE
            SET lines = t.lines + excluded.lines, wte = t.wte + excluded.wte,
                counted_pence = t.counted_pence + excluded.counted_pence;
        RETURN;
    END IF;
    IF lines_delta = 0 AND wte_delta = 0 AND pence_delta = 0 THEN
        RETURN;
    END IF;
    UPDATE claim_role_totals
        SET lines = lines + lines_delta, wte = wte + wte_delta, counted_pence = counted_pence + pence_delta
        WHERE pcn_code = pcn AND claim_id = claim AND role_id = role AND lines + lines_delta > 0;
    IF FOUND THEN
        RETURN;
    END IF;
    -- A role's last lines deleted take its row with them, and only when
    -- nothing is left over.
    DELETE FROM claim_role_totals
        WHERE pcn_code = pcn AND claim_id = claim AND role_id = role
          AND lines + lines_delta = 0 AND wte + wte_delta = 0 AND counted_pence + pence_delta = 0;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'claim_role_totals of claim %/% role % out of step with its lines', pcn, claim, role
            USING ERRCODE = 'data_exception';
    END IF;
END
$$;
-- +goose StatementEnd

-- The change one statement made, per claim and role (the arrays in the
-- order of pcn, claim and role, so that two writers take the same rows'
-- locks in the same order): applied to each role's row, then to each
-- claim's counted_pence once. Lines only added take one statement; a
-- change that takes lines away goes role by role, so that a role's row
-- can go with its last line.
-- +goose StatementBegin
CREATE FUNCTION claim_totals_apply(pcns text[], ids text[], roles text[], lines integer[], wtes numeric[], pences bigint[])
    RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    claim_pence bigint := 0;
BEGIN
    IF cardinality(pcns) > 0 AND (SELECT bool_and(n > 0) FROM unnest(lines) n) THEN
        -- Only lines added (a claim drafted, the common case): one statement
        -- adds every role's, in the arrays' order. ON CONFLICT finds each
        -- role's row by its key whatever the plan.
        INSERT INTO claim_role_totals AS t (pcn_code, claim_id, role_id, lines, wte, counted_pence)
        SELECT * FROM unnest(pcns, ids, roles, lines, wtes, pences)
        ON CONFLICT (pcn_code, claim_id, role_id) DO UPDATE
            SET lines = t.lines + excluded.lines, wte = t.wte + excluded.wte,
                counted_pence = t.counted_pence + excluded.counted_pence;
    ELSE
        FOR i IN 1 .. COALESCE(cardinality(pcns), 0) LOOP
            PERFORM claim_totals_add(pcns[i], ids[i], roles[i], lines[i], wtes[i], pences[i]);
        END LOOP;
    END IF;
    FOR i IN 1 .. COALESCE(cardinality(pcns), 0) LOOP
        claim_pence := claim_pence + pences[i];
        IF i = cardinality(pcns) OR pcns[i + 1] IS DISTINCT FROM pcns[i] OR ids[i + 1] IS DISTINCT FROM ids[i] THEN
            IF claim_pence <> 0 THEN
                UPDATE claims SET counted_pence = counted_pence + claim_pence WHERE pcn_code = pcns[i] AND id = ids[i];
            END IF;
            claim_pence := 0;
        END IF;
    END LOOP;
END
$$;
-- +goose StatementEnd

DROP TRIGGER claim_lines_totals_update ON claim_lines;
DROP TRIGGER claim_lines_totals_delete ON claim_lines;
DROP TRIGGER claim_lines_totals_insert ON claim_lines;
DROP FUNCTION claim_totals_changed();

-- An INSERT or DELETE trigger sees its statement's rows as changed_lines:
-- what an insert added counts up, what a delete took away counts down. An
-- UPDATE's trigger (below) sees both its old and its new rows.
-- +goose StatementBegin
CREATE FUNCTION claim_totals_inserted_or_deleted() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    sign integer := CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END;
BEGIN
    PERFORM claim_totals_apply(array_agg(pcn_code), array_agg(claim_id), array_agg(role_id),
        array_agg(n), array_agg(wte), array_agg(pence))
    FROM (SELECT pcn_code, claim_id, role_id, sign * count(*)::integer AS n, sign * sum(wte) AS wte,
                 sign * sum(COALESCE(approved_pence, reimbursable_pence))::bigint AS pence
          FROM changed_lines GROUP BY pcn_code, claim_id, role_id ORDER BY pcn_code, claim_id, role_id) d;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION claim_totals_updated() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM claim_totals_apply(array_agg(pcn_code), array_agg(claim_id), array_agg(role_id),
        array_agg(n), array_agg(wte), array_agg(pence))
    FROM (SELECT pcn_code, claim_id, role_id, sum(n)::integer AS n, sum(wte) AS wte, sum(pence)::bigint AS pence
          FROM (SELECT pcn_code, claim_id, role_id, 1 AS n, wte, COALESCE(approved_pence, reimbursable_pence) AS pence
                FROM new_lines
                UNION ALL
                SELECT pcn_code, claim_id, role_id, -1, -wte, -COALESCE(approved_pence, reimbursable_pence)
                FROM old_lines) c
          GROUP BY pcn_code, claim_id, role_id ORDER BY pcn_code, claim_id, role_id) d;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER claim_lines_totals_insert AFTER INSERT ON claim_lines
    REFERENCING NEW TABLE AS changed_lines FOR EACH STATEMENT EXECUTE FUNCTION claim_totals_inserted_or_deleted();
CREATE TRIGGER claim_lines_totals_delete AFTER DELETE ON claim_lines
    REFERENCING OLD TABLE AS changed_lines FOR EACH STATEMENT EXECUTE FUNCTION claim_totals_inserted_or_deleted();
CREATE TRIGGER claim_lines_totals_update AFTER UPDATE ON claim_lines
    REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION claim_totals_updated();

-- No query filters, joins or groups on a line's cap segments or evidence
-- links, so autovacuum's ANALYZE, which runs often while a national year
-- loads, need not sort 30,000 sampled jsonb values to describe them.
ALTER TABLE claim_lines ALTER COLUMN cap_segments SET STATISTICS 0, ALTER COLUMN evidence_uris SET STATISTICS 0;

-- +goose Down
ALTER TABLE claim_lines ALTER COLUMN cap_segments SET STATISTICS -1, ALTER COLUMN evidence_uris SET STATISTICS -1;
DROP TRIGGER claim_lines_totals_update ON claim_lines;
DROP TRIGGER claim_lines_totals_delete ON claim_lines;
DROP TRIGGER claim_lines_totals_insert ON claim_lines;
DROP FUNCTION claim_totals_updated();
DROP FUNCTION claim_totals_inserted_or_deleted();
DROP FUNCTION claim_totals_apply(text[], text[], text[], integer[], numeric[], bigint[]);
DROP FUNCTION claim_totals_add(text, text, text, integer, numeric, bigint);

-- +goose StatementBegin
CREATE FUNCTION claim_totals_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    pcns text[];
    ids  text[];
BEGIN
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(pcn_code), array_agg(claim_id) INTO pcns, ids
        FROM (SELECT pcn_code, claim_id FROM new_lines UNION SELECT pcn_code, claim_id FROM old_lines) k;
    ELSE
        SELECT array_agg(pcn_code), array_agg(claim_id) INTO pcns, ids
        FROM (SELECT DISTINCT pcn_code, claim_id FROM changed_lines) k;
    END IF;
    PERFORM claim_totals_refresh(pcns, ids);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER claim_lines_totals_insert AFTER INSERT ON claim_lines
    REFERENCING NEW TABLE AS changed_lines FOR EACH STATEMENT EXECUTE FUNCTION claim_totals_changed();
CREATE TRIGGER claim_lines_totals_delete AFTER DELETE ON claim_lines
    REFERENCING OLD TABLE AS changed_lines FOR EACH STATEMENT EXECUTE FUNCTION claim_totals_changed();
CREATE TRIGGER claim_lines_totals_update AFTER UPDATE ON claim_lines
    REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION claim_totals_changed();
