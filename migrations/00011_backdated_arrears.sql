-- Backdated pay awards as the national process pays them: the PCN pays its
-- staff the arrears first, then claims once for the uplift actually paid,
-- only for the staff who were paid it, with the clinical director's
-- declaration that they were.

-- +goose Up
-- On a supplementary line, the arrears the PCN paid the staff member and
-- when. A line with a paid date is one the PCN chose to claim; a line
-- without one claims nothing. Top-ups submitted before this migration were
-- claimed by the old rule, min(actual, new cap) − settled, and stay so:
-- legacy_top_up marks them, so that their amounts still satisfy the rule.
ALTER TABLE claim_lines
    ADD COLUMN arrears_gross_salary_pence     bigint NOT NULL DEFAULT 0
        CONSTRAINT claim_lines_arrears_gross_range CHECK (arrears_gross_salary_pence BETWEEN 0 AND 5000000),
    ADD COLUMN arrears_employer_ni_pence      bigint NOT NULL DEFAULT 0
        CONSTRAINT claim_lines_arrears_ni_range CHECK (arrears_employer_ni_pence BETWEEN 0 AND 5000000),
    ADD COLUMN arrears_employer_pension_pence bigint NOT NULL DEFAULT 0
        CONSTRAINT claim_lines_arrears_pension_range CHECK (arrears_employer_pension_pence BETWEEN 0 AND 5000000),
    ADD COLUMN arrears_paid_date              date,
    ADD COLUMN legacy_top_up                  boolean NOT NULL DEFAULT false;

-- The old rule goes first: the draft top-ups below break it.
ALTER TABLE claim_lines DROP CONSTRAINT claim_lines_reimbursement_rule;
UPDATE claim_lines l SET legacy_top_up = true
    FROM claims c WHERE c.pcn_code = l.pcn_code AND c.id = l.claim_id AND l.kind = 'supplementary' AND c.state <> 'draft';
-- A draft top-up offered by the old rule now waits for the PCN to say whom
-- it paid: until then it claims nothing.
UPDATE claim_lines l SET reimbursable_pence = 0, revision = l.revision + 1
    FROM claims c WHERE c.pcn_code = l.pcn_code AND c.id = l.claim_id AND l.kind = 'supplementary' AND c.state = 'draft';

ALTER TABLE claim_lines
    -- A monthly line reimburses min(actual, cap). A supplementary line the
    -- PCN chose reimburses min(actual + arrears paid, new cap) − settled,
    -- never below 0 (and so never above the maximum, new cap − settled); a
    -- line not chosen reimburses nothing.
    ADD CONSTRAINT claim_lines_reimbursement_rule CHECK (
        reimbursable_pence = CASE
            WHEN kind = 'supplementary' AND NOT legacy_top_up AND arrears_paid_date IS NULL THEN 0
            ELSE GREATEST(LEAST(GREATEST(gross_salary_pence + employer_ni_pence + employer_pension_pence
                                         + overtime_pence - absence_adjustment_pence
                                         + arrears_gross_salary_pence + arrears_employer_ni_pence
                                         + arrears_employer_pension_pence, 0), cap_pence)
                          - already_paid_pence, 0)
        END
        AND (kind = 'supplementary' OR already_paid_pence = 0)),
    -- Arrears belong to top-ups only; a legacy line records none.
    ADD CONSTRAINT claim_lines_arrears_on_top_ups CHECK (kind = 'supplementary' OR (arrears_gross_salary_pence = 0
        AND arrears_employer_ni_pence = 0 AND arrears_employer_pension_pence = 0 AND arrears_paid_date IS NULL
        AND NOT legacy_top_up)),
    ADD CONSTRAINT claim_lines_legacy_without_arrears CHECK (NOT legacy_top_up OR arrears_paid_date IS NULL),
    -- A chosen line records arrears actually paid, and an unchosen one none:
    -- lines only for the staff who were paid the uplift.
    ADD CONSTRAINT claim_lines_arrears_dated CHECK ((arrears_paid_date IS NULL) = (arrears_gross_salary_pence
        + arrears_employer_ni_pence + arrears_employer_pension_pence = 0)),
    -- Arrears for a month are paid after it began.
    ADD CONSTRAINT claim_lines_arrears_after_month CHECK (arrears_paid_date IS NULL OR arrears_paid_date >= month);

-- The clinical director's declaration, on submission, that the arrears were
-- paid before the claim: who and when. legacy_top_up marks the top-ups
-- submitted before the declaration existed.
ALTER TABLE claims
    ADD COLUMN arrears_declared_by  text NOT NULL DEFAULT '' CONSTRAINT claims_arrears_declared_by_length CHECK (length(arrears_declared_by) <= 200),
    ADD COLUMN arrears_declare_time timestamptz,
    ADD COLUMN legacy_top_up        boolean NOT NULL DEFAULT false;
UPDATE claims SET legacy_top_up = true WHERE kind = 'supplementary' AND state <> 'draft';
ALTER TABLE claims
    ADD CONSTRAINT claims_arrears_declaration_whole CHECK ((arrears_declared_by = '') = (arrears_declare_time IS NULL)),
    ADD CONSTRAINT claims_arrears_declaration_on_top_ups CHECK (kind = 'supplementary'
        OR (arrears_declared_by = '' AND NOT legacy_top_up)),
    -- A top-up that has been submitted carries the declaration.
    ADD CONSTRAINT claims_arrears_declared CHECK (kind <> 'supplementary' OR legacy_top_up
        OR state IN ('draft', 'withdrawn') OR arrears_declared_by <> '');

-- The backdated award view reads a PCN's top-up lines of a year.
CREATE INDEX claim_lines_top_ups_by_pcn ON claim_lines (pcn_code, month) WHERE kind = 'supplementary';

-- +goose Down
DROP INDEX claim_lines_top_ups_by_pcn;
ALTER TABLE claims DROP CONSTRAINT claims_arrears_declared, DROP CONSTRAINT claims_arrears_declaration_on_top_ups,
    DROP CONSTRAINT claims_arrears_declaration_whole;
ALTER TABLE claims DROP COLUMN legacy_top_up, DROP COLUMN arrears_declare_time, DROP COLUMN arrears_declared_by;
ALTER TABLE claim_lines DROP CONSTRAINT claim_lines_arrears_after_month, DROP CONSTRAINT claim_lines_arrears_dated,
    DROP CONSTRAINT claim_lines_legacy_without_arrears, DROP CONSTRAINT claim_lines_arrears_on_top_ups,
    DROP CONSTRAINT claim_lines_reimbursement_rule;
-- Back to the old rule: a top-up line claims min(actual, cap) − settled.
UPDATE claim_lines SET reimbursable_pence = v.old_rule, approved_pence = LEAST(approved_pence, v.old_rule)
    FROM (SELECT pcn_code, claim_id, post_id, GREATEST(LEAST(GREATEST(gross_salary_pence + employer_ni_pence
              + employer_pension_pence + overtime_pence - absence_adjustment_pence, 0), cap_pence) - already_paid_pence, 0) AS old_rule
          FROM claim_lines WHERE kind = 'supplementary') AS v
    WHERE claim_lines.pcn_code = v.pcn_code AND claim_lines.claim_id = v.claim_id AND claim_lines.post_id = v.post_id;
ALTER TABLE claim_lines DROP COLUMN legacy_top_up, DROP COLUMN arrears_paid_date, DROP COLUMN arrears_employer_pension_pence,
    DROP COLUMN arrears_employer_ni_pence, DROP COLUMN arrears_gross_salary_pence;
ALTER TABLE claim_lines ADD CONSTRAINT claim_lines_reimbursement_rule CHECK (
    reimbursable_pence = GREATEST(LEAST(GREATEST(gross_salary_pence + employer_ni_pence + employer_pension_pence
                                                 + overtime_pence - absence_adjustment_pence, 0), cap_pence)
                                  - already_paid_pence, 0)
    AND (kind = 'supplementary' OR already_paid_pence = 0));
