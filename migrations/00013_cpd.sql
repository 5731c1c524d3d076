-- The Training Hub CPD ledger (package cpd): hubs and the practices they
-- serve, schemes, each practice's eligible headcount baseline and the
-- allocations computed from it, CPD needs from appraisals, commissioned
-- courses and funding requests.
--
-- Practices are referred to by ODS code without a foreign key to
-- pcn_practices: that table is rewritten on every PCN update, and a
-- practice's PCN may change while the fund the hub holds for it does not.
-- The store checks that a practice is a PCN member when a hub takes it on.

-- +goose Up
CREATE TABLE training_hubs (
    id           text COLLATE "C" PRIMARY KEY
                 CONSTRAINT training_hubs_id_format CHECK (id ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    display_name text NOT NULL CONSTRAINT training_hubs_display_name CHECK (length(display_name) BETWEEN 1 AND 200),
    revision     bigint NOT NULL DEFAULT 1,
    create_time  timestamptz NOT NULL DEFAULT now(),
    update_time  timestamptz NOT NULL DEFAULT now()
);

-- Which hub serves a practice, effective-dated: one hub at a time.
CREATE TABLE training_hub_practices (
    hub_id     text COLLATE "C" NOT NULL REFERENCES training_hubs (id),
    ods_code   text COLLATE "C" NOT NULL CONSTRAINT training_hub_practices_ods CHECK (ods_code ~ '^[A-Z][0-9]{5}$'),
    valid_from date NOT NULL,
    valid_to   date,
    PRIMARY KEY (hub_id, ods_code, valid_from),
    CONSTRAINT training_hub_practices_dates CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CONSTRAINT training_hub_practices_one_hub EXCLUDE USING gist (
        ods_code WITH =, daterange(valid_from, valid_to, '[]') WITH &&)
);
CREATE INDEX training_hub_practices_practice ON training_hub_practices (ods_code);

CREATE TABLE cpd_schemes (
    id                    text COLLATE "C" PRIMARY KEY
                          CONSTRAINT cpd_schemes_id_format CHECK (id ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    display_name          text NOT NULL CONSTRAINT cpd_schemes_display_name CHECK (length(display_name) BETWEEN 1 AND 200),
    first_year            text COLLATE "C" NOT NULL
                          CONSTRAINT cpd_schemes_first_year CHECK (first_year ~ '^[0-9]{4}-[0-9]{2}$'),
    years                 int NOT NULL CONSTRAINT cpd_schemes_years CHECK (years BETWEEN 1 AND 10),
    amount_basis          text NOT NULL CONSTRAINT cpd_schemes_amount_basis CHECK (amount_basis IN ('per_year', 'over_scheme')),
    amount_per_head_pence bigint NOT NULL CONSTRAINT cpd_schemes_amount CHECK (amount_per_head_pence > 0),
    staff_groups          text[] NOT NULL CONSTRAINT cpd_schemes_staff_groups
                          CHECK (cardinality(staff_groups) > 0
                                 AND staff_groups <@ ARRAY['registered_nurse', 'allied_health_professional']),
    end_date              date NOT NULL,
    revision              bigint NOT NULL DEFAULT 1,
    create_time           timestamptz NOT NULL DEFAULT now(),
    update_time           timestamptz NOT NULL DEFAULT now(),
    -- No carry-over: the scheme ends no later than 31 March of its last year.
    CONSTRAINT cpd_schemes_end_date CHECK (
        end_date >= make_date(left(first_year, 4)::int, 4, 1)
        AND end_date <= make_date(left(first_year, 4)::int + years, 3, 31))
);

-- Each practice's eligible headcount (per head, regardless of WTE) from the
-- scheme's workforce baseline.
CREATE TABLE cpd_baselines (
    scheme_id          text COLLATE "C" NOT NULL REFERENCES cpd_schemes (id),
    ods_code           text COLLATE "C" NOT NULL CONSTRAINT cpd_baselines_ods CHECK (ods_code ~ '^[A-Z][0-9]{5}$'),
    eligible_headcount int NOT NULL CONSTRAINT cpd_baselines_headcount CHECK (eligible_headcount BETWEEN 0 AND 10000),
    revision           bigint NOT NULL DEFAULT 1,
    create_time        timestamptz NOT NULL DEFAULT now(),
    update_time        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scheme_id, ods_code)
);

-- A practice's allocation for one scheme year, computed from its baseline,
-- with what is committed (approved, part-funded and paid requests) and paid.
-- The CHECKs are the balance's last line of defence: whatever the code does,
-- committed never exceeds the allocation, so the remainder is never negative.
CREATE TABLE cpd_allocations (
    scheme_id       text COLLATE "C" NOT NULL,
    ods_code        text COLLATE "C" NOT NULL,
    financial_year  text COLLATE "C" NOT NULL CONSTRAINT cpd_allocations_year CHECK (financial_year ~ '^[0-9]{4}-[0-9]{2}$'),
    amount_pence    bigint NOT NULL CONSTRAINT cpd_allocations_amount CHECK (amount_pence >= 0),
    committed_pence bigint NOT NULL DEFAULT 0,
    paid_pence      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (scheme_id, ods_code, financial_year),
    FOREIGN KEY (scheme_id, ods_code) REFERENCES cpd_baselines (scheme_id, ods_code),
    CONSTRAINT cpd_allocations_within CHECK (committed_pence >= 0 AND committed_pence <= amount_pence),
    CONSTRAINT cpd_allocations_paid CHECK (paid_pence >= 0 AND paid_pence <= committed_pence)
);

CREATE TABLE cpd_needs (
    ods_code         text COLLATE "C" NOT NULL CONSTRAINT cpd_needs_ods CHECK (ods_code ~ '^[A-Z][0-9]{5}$'),
    id               text COLLATE "C" NOT NULL,
    professional     text NOT NULL CONSTRAINT cpd_needs_professional CHECK (length(professional) BETWEEN 1 AND 200),
    staff_group      text NOT NULL CONSTRAINT cpd_needs_staff_group CHECK (staff_group IN ('registered_nurse', 'allied_health_professional')),
    appraisal_date   date NOT NULL,
    need             text NOT NULL CONSTRAINT cpd_needs_need CHECK (length(need) BETWEEN 1 AND 2000),
    topic            text NOT NULL CONSTRAINT cpd_needs_topic CHECK (length(topic) BETWEEN 1 AND 100),
    preferred_course text NOT NULL DEFAULT '' CONSTRAINT cpd_needs_preferred_course CHECK (length(preferred_course) <= 200),
    revision         bigint NOT NULL DEFAULT 1,
    create_time      timestamptz NOT NULL DEFAULT now(),
    update_time      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ods_code, id)
);

CREATE TABLE cpd_courses (
    hub_id               text COLLATE "C" NOT NULL REFERENCES training_hubs (id),
    id                   text COLLATE "C" NOT NULL,
    title                text NOT NULL CONSTRAINT cpd_courses_title CHECK (length(title) BETWEEN 1 AND 200),
    topic                text NOT NULL CONSTRAINT cpd_courses_topic CHECK (length(topic) BETWEEN 1 AND 100),
    provider             text NOT NULL CONSTRAINT cpd_courses_provider CHECK (length(provider) BETWEEN 1 AND 200),
    start_date           date NOT NULL,
    end_date             date NOT NULL,
    places               int NOT NULL CONSTRAINT cpd_courses_places CHECK (places BETWEEN 1 AND 1000),
    cost_per_place_pence bigint NOT NULL CONSTRAINT cpd_courses_cost CHECK (cost_per_place_pence > 0),
    places_allocated     int NOT NULL DEFAULT 0,
    revision             bigint NOT NULL DEFAULT 1,
    create_time          timestamptz NOT NULL DEFAULT now(),
    update_time          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (hub_id, id),
    CONSTRAINT cpd_courses_dates CHECK (end_date >= start_date),
    CONSTRAINT cpd_courses_places_left CHECK (places_allocated BETWEEN 0 AND places)
);

CREATE TABLE cpd_requests (
    ods_code         text COLLATE "C" NOT NULL,
    id               text COLLATE "C" NOT NULL,
    need_id          text COLLATE "C" NOT NULL,
    scheme_id        text COLLATE "C" NOT NULL,
    financial_year   text COLLATE "C" NOT NULL,
    category         text NOT NULL,
    provider         text NOT NULL CONSTRAINT cpd_requests_provider CHECK (length(provider) BETWEEN 1 AND 200),
    course_title     text NOT NULL CONSTRAINT cpd_requests_course_title CHECK (length(course_title) BETWEEN 1 AND 200),
    start_date       date NOT NULL,
    end_date         date NOT NULL,
    cost_pence       bigint NOT NULL CONSTRAINT cpd_requests_cost CHECK (cost_pence > 0),
    funded_pence     bigint NOT NULL DEFAULT 0,
    paid_pence       bigint NOT NULL DEFAULT 0,
    state            text NOT NULL DEFAULT 'submitted',
    rejection_reason text NOT NULL DEFAULT '' CONSTRAINT cpd_requests_reason CHECK (length(rejection_reason) <= 1000),
    -- The hub's payment to the provider: when, and the remittance reference
    -- that ties it to the hub's ledger.
    payment_date     date,
    payment_reference text NOT NULL DEFAULT '' CONSTRAINT cpd_requests_payment_reference CHECK (length(payment_reference) <= 200),
    course_hub_id    text COLLATE "C",
    course_id        text COLLATE "C",
    revision         bigint NOT NULL DEFAULT 1,
    create_time      timestamptz NOT NULL DEFAULT now(),
    update_time      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ods_code, id),
    FOREIGN KEY (ods_code, need_id) REFERENCES cpd_needs (ods_code, id),
    FOREIGN KEY (scheme_id, ods_code, financial_year) REFERENCES cpd_allocations (scheme_id, ods_code, financial_year),
    FOREIGN KEY (course_hub_id, course_id) REFERENCES cpd_courses (hub_id, id),
    CONSTRAINT cpd_requests_dates CHECK (end_date >= start_date),
    -- Backfill, administrative costs, equipment and mandatory or statutory
    -- training are not fundable and are never recorded as requests.
    CONSTRAINT cpd_requests_category CHECK (category IN ('course', 'conference', 'e_learning', 'qualification')),
    CONSTRAINT cpd_requests_state CHECK (state IN ('submitted', 'approved', 'part_funded', 'rejected', 'paid')),
    CONSTRAINT cpd_requests_funded CHECK (
        CASE state
        WHEN 'submitted'   THEN funded_pence = 0 AND paid_pence = 0
        WHEN 'approved'    THEN funded_pence = cost_pence AND paid_pence = 0
        WHEN 'part_funded' THEN funded_pence > 0 AND funded_pence < cost_pence AND paid_pence = 0
        WHEN 'rejected'    THEN funded_pence = 0 AND paid_pence = 0 AND rejection_reason <> ''
        WHEN 'paid'        THEN funded_pence > 0 AND funded_pence <= cost_pence AND paid_pence = funded_pence
        END),
    CONSTRAINT cpd_requests_paid_recorded CHECK ((state = 'paid') = (payment_date IS NOT NULL AND payment_reference <> ''))
);
CREATE INDEX cpd_requests_need ON cpd_requests (ods_code, need_id);

-- +goose Down
DROP TABLE cpd_requests;
DROP TABLE cpd_courses;
DROP TABLE cpd_needs;
DROP TABLE cpd_allocations;
DROP TABLE cpd_baselines;
DROP TABLE cpd_schemes;
DROP TABLE training_hub_practices;
DROP TABLE training_hubs;
