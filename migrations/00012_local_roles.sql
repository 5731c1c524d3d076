-- The 2026/27 rules: roles a commissioner approves for its own PCNs (local
-- roles), role rules with effective dates (the GP "within 2 years of CCT"
-- restriction, which ends on 31 March 2026), the date a post's GP gained
-- their CCT, and each financial year's national pool with a marker for
-- figures that are provisional.

-- +goose Up
-- A local role is a catalogue row owned by the commissioner that approved
-- it: posts, rates and pricing refer to it exactly as to a national role,
-- and which PCNs see it follows from the owner. retire_time is when the
-- commissioner withdrew its approval; the last reimbursable day is then
-- reimbursable_to.
ALTER TABLE roles
    ADD COLUMN commissioner_code text COLLATE "C" REFERENCES commissioners (code),
    ADD COLUMN retire_time timestamptz,
    ADD CONSTRAINT roles_only_local_roles_retire CHECK (retire_time IS NULL OR commissioner_code IS NOT NULL),
    ADD CONSTRAINT roles_retired_has_last_day CHECK (retire_time IS NULL OR reimbursable_to IS NOT NULL);
CREATE INDEX roles_by_commissioner ON roles (commissioner_code, id) WHERE commissioner_code IS NOT NULL;

-- A post may hold a national role or a local role of its PCN's
-- commissioner, never another commissioner's: the store checks it first
-- and names the field; this is the database's own line.
-- +goose StatementBegin
CREATE FUNCTION posts_role_in_scope() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM roles r JOIN pcns p ON p.code = NEW.pcn_code
               WHERE r.id = NEW.role_id AND r.commissioner_code IS NOT NULL
                 AND r.commissioner_code <> p.commissioner_code) THEN
        RAISE EXCEPTION 'role % is another commissioner''s local role, not available to PCN %', NEW.role_id, NEW.pcn_code
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'posts_role_in_scope';
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER posts_role_in_scope BEFORE INSERT OR UPDATE OF role_id, pcn_code ON posts
    FOR EACH ROW EXECUTE FUNCTION posts_role_in_scope();

-- Role rules: conditions on who may be engaged in a role, in force from
-- effective_from to effective_to (open when NULL). cct_within_years: the
-- staff member must start within `years` of their Certificate of Completion
-- of Training. One rule of a kind per role on any day.
CREATE TABLE role_rules (
    role_id        text COLLATE "C" NOT NULL REFERENCES roles (id),
    kind           text NOT NULL CHECK (kind IN ('cct_within_years')),
    effective_from date NOT NULL,
    effective_to   date,
    years          int NOT NULL CHECK (years BETWEEN 1 AND 50),
    PRIMARY KEY (role_id, kind, effective_from),
    CONSTRAINT role_rules_to_after_from CHECK (effective_to IS NULL OR effective_to >= effective_from),
    CONSTRAINT role_rules_no_overlap EXCLUDE USING gist (
        role_id WITH =, kind WITH =, daterange(effective_from, effective_to, '[]') WITH &&)
);

-- When the post's GP gained their CCT; NULL when not recorded (every role
-- without a CCT rule).
ALTER TABLE posts ADD COLUMN cct_date date;

-- The national pool the rates per weighted patient share out (0 while not
-- recorded), and whether the year's figures are provisional (illustrative)
-- until published.
ALTER TABLE financial_years
    ADD COLUMN national_pool_pence bigint NOT NULL DEFAULT 0 CHECK (national_pool_pence >= 0),
    ADD COLUMN illustrative boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE financial_years DROP COLUMN illustrative, DROP COLUMN national_pool_pence;
ALTER TABLE posts DROP COLUMN cct_date;
DROP TABLE role_rules;
DROP TRIGGER posts_role_in_scope ON posts;
DROP FUNCTION posts_role_in_scope();
DROP INDEX roles_by_commissioner;
ALTER TABLE roles DROP CONSTRAINT roles_retired_has_last_day, DROP CONSTRAINT roles_only_local_roles_retire,
    DROP COLUMN retire_time, DROP COLUMN commissioner_code;
