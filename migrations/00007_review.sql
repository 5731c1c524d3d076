-- Commissioner review: approval with adjustments, rejection, queries,
-- payment; who commissioned a PCN in each month; supplementary claims.

-- +goose Up
-- Past commissioners of each PCN, with their last day; the current one is
-- pcns.commissioner_code. A claim is reviewed by the commissioner of its month.
CREATE TABLE pcn_commissioners (
    pcn_code          text COLLATE "C" NOT NULL REFERENCES pcns (code),
    commissioner_code text COLLATE "C" NOT NULL REFERENCES commissioners (code),
    valid_to          date NOT NULL,
    PRIMARY KEY (pcn_code, valid_to)
);

ALTER TABLE claims
    ADD COLUMN commissioner_code   text COLLATE "C" REFERENCES commissioners (code),
    ADD COLUMN supplements         text COLLATE "C",
    ADD COLUMN reviewer            text NOT NULL DEFAULT '',
    ADD COLUMN review_time         timestamptz,
    ADD COLUMN review_note         text NOT NULL DEFAULT '' CHECK (length(review_note) <= 2000),
    ADD COLUMN payment_date        date,
    ADD COLUMN payment_reference   text NOT NULL DEFAULT '' CHECK (length(payment_reference) <= 200),
    ADD COLUMN payment_payee       text NOT NULL DEFAULT '' CHECK (length(payment_payee) <= 200),
    ADD COLUMN payment_recorded_by text NOT NULL DEFAULT '';
UPDATE claims c SET commissioner_code = p.commissioner_code FROM pcns p WHERE p.code = c.pcn_code;
ALTER TABLE claims
    ALTER COLUMN commissioner_code SET NOT NULL,
    -- A supplementary claim tops up the monthly claim of its month.
    ADD CONSTRAINT claims_supplement_of_month CHECK ((kind = 'supplementary') = (supplements IS NOT NULL)),
    ADD CONSTRAINT claims_reviewed CHECK (state NOT IN ('approved', 'paid', 'rejected', 'queried')
                                          OR (reviewer <> '' AND review_time IS NOT NULL)),
    -- Four eyes: whoever submitted a claim does not approve it.
    ADD CONSTRAINT claims_four_eyes CHECK (state NOT IN ('approved', 'paid') OR reviewer <> submitter),
    ADD CONSTRAINT claims_paid CHECK ((state = 'paid') = (payment_date IS NOT NULL AND payment_reference <> ''));
ALTER TABLE claims DROP CONSTRAINT claims_monthly_id;
ALTER TABLE claims ADD CONSTRAINT claims_id_format CHECK (
    (kind = 'monthly' AND id = to_char(month, 'YYYY-MM'))
    OR (kind = 'supplementary' AND id ~ ('^' || to_char(month, 'YYYY-MM') || '-s[1-9][0-9]?$')));
ALTER TABLE claims DROP CONSTRAINT claims_id_check;

CREATE INDEX claims_review_queue ON claims (commissioner_code, state, submit_time, pcn_code, id);

ALTER TABLE claim_lines
    ADD COLUMN approved_pence    bigint CHECK (approved_pence >= 0 AND approved_pence <= reimbursable_pence),
    ADD COLUMN adjustment_reason text NOT NULL DEFAULT '' CHECK (length(adjustment_reason) <= 1000),
    -- What the month's approved claim already reimbursed, for a top-up line.
    ADD COLUMN already_paid_pence bigint NOT NULL DEFAULT 0 CHECK (already_paid_pence >= 0);
-- A monthly line reimburses min(actual, cap); a supplementary line the rest
-- of min(actual, cap) beyond what the monthly claim already reimbursed.
ALTER TABLE claim_lines DROP CONSTRAINT claim_lines_reimbursement_rule;
ALTER TABLE claim_lines ADD CONSTRAINT claim_lines_reimbursement_rule CHECK (
    reimbursable_pence = GREATEST(LEAST(GREATEST(gross_salary_pence + employer_ni_pence + employer_pension_pence
                                                 + overtime_pence - absence_adjustment_pence, 0), cap_pence)
                                  - already_paid_pence, 0)
    AND (kind = 'supplementary' OR already_paid_pence = 0));

-- What a month has settled for a post, for top-ups: its supplementary lines.
CREATE INDEX claim_lines_supplementary ON claim_lines (pcn_code, post_id, month) WHERE kind = 'supplementary';

-- +goose Down
DROP INDEX claim_lines_supplementary;
ALTER TABLE claim_lines DROP CONSTRAINT claim_lines_reimbursement_rule;
ALTER TABLE claim_lines DROP COLUMN already_paid_pence, DROP COLUMN adjustment_reason, DROP COLUMN approved_pence;
ALTER TABLE claim_lines ADD CONSTRAINT claim_lines_reimbursement_rule CHECK (reimbursable_pence = LEAST(GREATEST(gross_salary_pence
    + employer_ni_pence + employer_pension_pence + overtime_pence - absence_adjustment_pence, 0), cap_pence));
DROP INDEX claims_review_queue;
ALTER TABLE claims DROP CONSTRAINT claims_id_format, DROP CONSTRAINT claims_paid, DROP CONSTRAINT claims_four_eyes,
    DROP CONSTRAINT claims_reviewed, DROP CONSTRAINT claims_supplement_of_month;
ALTER TABLE claims DROP COLUMN payment_recorded_by, DROP COLUMN payment_payee, DROP COLUMN payment_reference,
    DROP COLUMN payment_date, DROP COLUMN review_note, DROP COLUMN review_time, DROP COLUMN reviewer,
    DROP COLUMN supplements, DROP COLUMN commissioner_code;
ALTER TABLE claims ADD CONSTRAINT claims_monthly_id CHECK (kind <> 'monthly' OR id = to_char(month, 'YYYY-MM'));
DROP TABLE pcn_commissioners;
