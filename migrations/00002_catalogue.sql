-- The role catalogue and effective-dated maximum reimbursement rates.

-- +goose Up
CREATE TABLE roles (
    id                  text COLLATE "C" PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9-]{1,61}[a-z0-9]$'),
    display_name        text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    afc_band            text NOT NULL DEFAULT '' CHECK (afc_band ~ '^([1-9]|8[a-d])?$'),
    register            text NOT NULL CHECK (register IN ('none', 'hcpc', 'nmc', 'gphc', 'gmc')),
    registration_prefix text NOT NULL DEFAULT '',
    reimbursable_from   date NOT NULL,
    reimbursable_to     date,
    revision            bigint NOT NULL DEFAULT 1,
    create_time         timestamptz NOT NULL DEFAULT now(),
    update_time         timestamptz NOT NULL DEFAULT now(),
    CHECK (reimbursable_to IS NULL OR reimbursable_to >= reimbursable_from),
    -- HCPC numbers start with the profession's letters; other registers have none.
    CHECK ((register = 'hcpc' AND registration_prefix ~ '^[A-Z]{2}$')
        OR (register <> 'hcpc' AND registration_prefix = ''))
);

CREATE TABLE role_headcount_caps (
    role_id              text COLLATE "C" NOT NULL REFERENCES roles (id),
    financial_year       text COLLATE "C" NOT NULL CHECK (financial_year ~ '^[0-9]{4}-[0-9]{2}$'),
    max_posts            int NOT NULL CHECK (max_posts >= 0),
    large_list_threshold bigint NOT NULL DEFAULT 0 CHECK (large_list_threshold >= 0),
    max_posts_large_list int NOT NULL DEFAULT 0 CHECK (max_posts_large_list >= 0),
    PRIMARY KEY (role_id, financial_year)
);

CREATE TABLE rates (
    role_id                text COLLATE "C" NOT NULL REFERENCES roles (id),
    effective_date         date NOT NULL,
    -- Above £1m a year is a typing error, not a pay award.
    national_max_pence     bigint NOT NULL CHECK (national_max_pence BETWEEN 1 AND 100000000),
    outer_london_max_pence bigint CHECK (outer_london_max_pence BETWEEN 1 AND 100000000),
    inner_london_max_pence bigint CHECK (inner_london_max_pence BETWEEN 1 AND 100000000),
    source                 text NOT NULL DEFAULT '',
    illustrative           boolean NOT NULL DEFAULT false,
    revision               bigint NOT NULL DEFAULT 1,
    create_time            timestamptz NOT NULL DEFAULT now(),
    update_time            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (role_id, effective_date)
);

-- +goose Down
DROP TABLE rates;
DROP TABLE role_headcount_caps;
DROP TABLE roles;
