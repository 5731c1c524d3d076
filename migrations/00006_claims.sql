-- Monthly reimbursement claims and their lines.

-- +goose Up
-- The last day a year's months may be claimed: reference data, set per year.
ALTER TABLE financial_years ADD COLUMN claims_deadline date;

CREATE TABLE claims (
    pcn_code        text COLLATE "C" NOT NULL REFERENCES pcns (code),
    id              text COLLATE "C" NOT NULL CHECK (id ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    -- Supplementary claims (top-ups after a backdated rate) come later; the
    -- once-per-month rule below binds monthly claims only.
    kind            text NOT NULL DEFAULT 'monthly' CHECK (kind IN ('monthly', 'supplementary')),
    month           date NOT NULL CHECK (extract(day FROM month) = 1),
    financial_year  text COLLATE "C" NOT NULL REFERENCES financial_years (id),
    state           text NOT NULL CHECK (state IN ('draft', 'submitted', 'withdrawn', 'approved', 'paid', 'rejected', 'queried')),
    submitter       text NOT NULL DEFAULT '',
    submit_time     timestamptz,
    withdraw_reason text NOT NULL DEFAULT '' CHECK (length(withdraw_reason) <= 1000),
    -- The posts that got no line when the claim was drafted, and why.
    excluded_posts  jsonb NOT NULL DEFAULT '[]',
    revision        bigint NOT NULL DEFAULT 1,
    create_time     timestamptz NOT NULL DEFAULT now(),
    update_time     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pcn_code, id),
    UNIQUE (pcn_code, id, month, kind),
    CONSTRAINT claims_monthly_id CHECK (kind <> 'monthly' OR id = to_char(month, 'YYYY-MM')),
    CHECK (state = 'draft' OR state = 'withdrawn' OR submit_time IS NOT NULL)
);

CREATE UNIQUE INDEX claims_one_monthly_per_pcn_month ON claims (pcn_code, month) WHERE kind = 'monthly';
-- Budget sums read a PCN's claims of a year.
CREATE INDEX claims_pcn_year ON claims (pcn_code, financial_year, state);
CREATE INDEX claims_state ON claims (state, submit_time);

CREATE TABLE claim_lines (
    pcn_code                 text COLLATE "C" NOT NULL,
    claim_id                 text COLLATE "C" NOT NULL,
    post_id                  text COLLATE "C" NOT NULL,
    -- Copied from the claim so the once-per-month rule can be a unique index.
    month                    date NOT NULL,
    kind                     text NOT NULL,
    role_id                  text COLLATE "C" NOT NULL REFERENCES roles (id),
    wte                      numeric(5, 4) NOT NULL CHECK (wte > 0 AND wte <= 1),
    gross_salary_pence       bigint NOT NULL DEFAULT 0 CHECK (gross_salary_pence BETWEEN 0 AND 5000000),
    employer_ni_pence        bigint NOT NULL DEFAULT 0 CHECK (employer_ni_pence BETWEEN 0 AND 5000000),
    employer_pension_pence   bigint NOT NULL DEFAULT 0 CHECK (employer_pension_pence BETWEEN 0 AND 5000000),
    overtime_pence           bigint NOT NULL DEFAULT 0 CHECK (overtime_pence BETWEEN 0 AND 5000000),
    absence_adjustment_pence bigint NOT NULL DEFAULT 0,
    evidence_uris            text[] NOT NULL DEFAULT '{}',
    cap_pence                bigint NOT NULL CHECK (cap_pence >= 0),
    active_days              int NOT NULL CHECK (active_days BETWEEN 1 AND 31),
    days_in_year             int NOT NULL CHECK (days_in_year IN (365, 366)),
    cap_segments             jsonb NOT NULL,
    reimbursable_pence       bigint NOT NULL,
    revision                 bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (pcn_code, claim_id, post_id),
    FOREIGN KEY (pcn_code, claim_id, month, kind) REFERENCES claims (pcn_code, id, month, kind),
    FOREIGN KEY (pcn_code, post_id) REFERENCES posts (pcn_code, id),
    CONSTRAINT claim_lines_absence_within_gross CHECK (absence_adjustment_pence BETWEEN 0 AND gross_salary_pence),
    -- The reimbursement rule itself, as the last line of defence:
    -- min(actual, cap), where actual = gross + NI + pension + overtime − absence.
    CONSTRAINT claim_lines_reimbursement_rule CHECK (reimbursable_pence = LEAST(GREATEST(gross_salary_pence + employer_ni_pence + employer_pension_pence
                                               + overtime_pence - absence_adjustment_pence, 0), cap_pence))
);

-- A post is claimed at most once a month, across all of a PCN's claims.
CREATE UNIQUE INDEX claim_lines_post_once_a_month ON claim_lines (pcn_code, post_id, month) WHERE kind = 'monthly';
CREATE INDEX claim_lines_role ON claim_lines (pcn_code, role_id);

-- +goose Down
DROP TABLE claim_lines;
DROP TABLE claims;
ALTER TABLE financial_years DROP COLUMN claims_deadline;
