-- Each claim carries what its lines count against the entitlement, kept by
-- the database as the lines change.
--
-- Submitting a claim checks the PCN's other counted claims against its
-- entitlement, and the budget and the commissioner's position add them up:
-- each read every line of the year's claims, up to 330 rows a PCN at each
-- submission and every line in England for the national position. With the
-- total on the claim those are a dozen claim rows a PCN. A statement-level
-- trigger recomputes the total of every claim whose lines a statement
-- touched, from the lines themselves, so no code path can forget it and the
-- rule stays the one in claims.countedPence: the approved amount once
-- approved, the claimed amount until then.

-- +goose Up
ALTER TABLE claims ADD COLUMN counted_pence bigint NOT NULL DEFAULT 0 CHECK (counted_pence >= 0);

UPDATE claims c SET counted_pence = t.pence
FROM (SELECT pcn_code, claim_id, SUM(COALESCE(approved_pence, reimbursable_pence))::bigint AS pence
      FROM claim_lines GROUP BY pcn_code, claim_id) t
WHERE c.pcn_code = t.pcn_code AND c.id = t.claim_id;

-- The claims whose lines a statement inserted or deleted (changed_lines),
-- or updated (old_lines and new_lines: a line's keys do not change, but the
-- rule should not depend on it), get their totals worked out again.
-- +goose StatementBegin
CREATE FUNCTION claim_counted_refresh() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE claims c SET counted_pence = COALESCE((
            SELECT SUM(COALESCE(l.approved_pence, l.reimbursable_pence))
            FROM claim_lines l WHERE l.pcn_code = c.pcn_code AND l.claim_id = c.id), 0)
    WHERE (c.pcn_code, c.id) IN (SELECT pcn_code, claim_id FROM changed_lines);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION claim_counted_refresh_update() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE claims c SET counted_pence = COALESCE((
            SELECT SUM(COALESCE(l.approved_pence, l.reimbursable_pence))
            FROM claim_lines l WHERE l.pcn_code = c.pcn_code AND l.claim_id = c.id), 0)
    WHERE (c.pcn_code, c.id) IN (SELECT pcn_code, claim_id FROM new_lines UNION SELECT pcn_code, claim_id FROM old_lines);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER claim_lines_counted_insert AFTER INSERT ON claim_lines
    REFERENCING NEW TABLE AS changed_lines FOR EACH STATEMENT EXECUTE FUNCTION claim_counted_refresh();
CREATE TRIGGER claim_lines_counted_delete AFTER DELETE ON claim_lines
    REFERENCING OLD TABLE AS changed_lines FOR EACH STATEMENT EXECUTE FUNCTION claim_counted_refresh();
CREATE TRIGGER claim_lines_counted_update AFTER UPDATE ON claim_lines
    REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION claim_counted_refresh_update();

-- +goose Down
DROP TRIGGER claim_lines_counted_update ON claim_lines;
DROP TRIGGER claim_lines_counted_delete ON claim_lines;
DROP TRIGGER claim_lines_counted_insert ON claim_lines;
DROP FUNCTION claim_counted_refresh_update();
DROP FUNCTION claim_counted_refresh();
ALTER TABLE claims DROP COLUMN counted_pence;
