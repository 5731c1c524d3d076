-- Each claim carries its lines' totals, kept by the database as the lines
-- change: what they count against the entitlement (claims.counted_pence),
-- and heads, FTE and spend by role (claim_role_totals).
--
-- Submitting a claim checks the PCN's other counted claims against its
-- entitlement, the budget and the commissioner's position add them up, and
-- the workforce statistics count heads, FTE and spend by month,
-- commissioner and role: each read every line of the year's claims, up to
-- 330 rows a PCN at each submission and all 450,000 lines of England for
-- the national views. With the totals on the claim, those are a dozen claim
-- rows a PCN, and a claim's lines of one role are one row. The rows are a
-- claim's own, so keeping them makes no PCN's writes wait for another's.
--
-- Statement-level triggers work the totals of every claim whose lines a
-- statement touched out again from the lines themselves, so no code path
-- can forget them, and the rule stays the one in claims.countedPence: the
-- approved amount once approved, the claimed amount until then.

-- +goose Up
ALTER TABLE claims ADD COLUMN counted_pence bigint NOT NULL DEFAULT 0 CHECK (counted_pence >= 0);

CREATE TABLE claim_role_totals (
    pcn_code      text COLLATE "C" NOT NULL,
    claim_id      text COLLATE "C" NOT NULL,
    role_id       text COLLATE "C" NOT NULL,
    lines         integer NOT NULL CHECK (lines > 0),
    wte           numeric NOT NULL CHECK (wte > 0),
    counted_pence bigint NOT NULL CHECK (counted_pence >= 0),
    PRIMARY KEY (pcn_code, claim_id, role_id),
    FOREIGN KEY (pcn_code, claim_id) REFERENCES claims (pcn_code, id) ON DELETE CASCADE
);

-- The totals of the claims named by pcns[i], ids[i], worked out again from
-- their lines.
-- +goose StatementBegin
CREATE FUNCTION claim_totals_refresh(pcns text[], ids text[]) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE claims c SET counted_pence = COALESCE((
            SELECT SUM(COALESCE(l.approved_pence, l.reimbursable_pence))
            FROM claim_lines l WHERE l.pcn_code = c.pcn_code AND l.claim_id = c.id), 0)
    WHERE (c.pcn_code, c.id) IN (SELECT * FROM unnest(pcns, ids));
    DELETE FROM claim_role_totals t WHERE (t.pcn_code, t.claim_id) IN (SELECT * FROM unnest(pcns, ids));
    INSERT INTO claim_role_totals (pcn_code, claim_id, role_id, lines, wte, counted_pence)
    SELECT l.pcn_code, l.claim_id, l.role_id, count(*), sum(l.wte), sum(COALESCE(l.approved_pence, l.reimbursable_pence))
    FROM claim_lines l WHERE (l.pcn_code, l.claim_id) IN (SELECT * FROM unnest(pcns, ids))
    GROUP BY l.pcn_code, l.claim_id, l.role_id;
END
$$;
-- +goose StatementEnd

SELECT claim_totals_refresh(array_agg(pcn_code), array_agg(id)) FROM claims;

-- The claims whose lines a statement inserted or deleted (changed_lines),
-- or updated (old_lines and new_lines: a line's keys do not change, but the
-- rule should not depend on it).
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

-- +goose Down
DROP TRIGGER claim_lines_totals_update ON claim_lines;
DROP TRIGGER claim_lines_totals_delete ON claim_lines;
DROP TRIGGER claim_lines_totals_insert ON claim_lines;
DROP FUNCTION claim_totals_changed();
DROP FUNCTION claim_totals_refresh(text[], text[]);
DROP TABLE claim_role_totals;
ALTER TABLE claims DROP COLUMN counted_pence;
