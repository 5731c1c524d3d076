-- Commissioners and Primary Care Networks.
-- Key columns use the "C" collation so keyset pagination orders exactly as
-- the resource names compare byte by byte.

-- +goose Up
CREATE TABLE commissioners (
    code         text COLLATE "C" PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('ccg', 'icb')),
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    valid_from   date NOT NULL,
    valid_to     date,
    revision     bigint NOT NULL DEFAULT 1,
    create_time  timestamptz NOT NULL DEFAULT now(),
    update_time  timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_to IS NULL OR valid_to >= valid_from),
    -- CCGs commissioned until 30 June 2022; ICBs from 1 July 2022.
    CHECK (kind <> 'ccg' OR (code ~ '^([0-9A-Z]{3}|[0-9A-Z]{5})$' AND valid_from < '2022-07-01'
                             AND valid_to IS NOT NULL AND valid_to < '2022-07-01')),
    CHECK (kind <> 'icb' OR (code ~ '^Q[0-9A-Z]{2}$' AND valid_from >= '2022-07-01'))
);

CREATE TABLE pcns (
    code                 text COLLATE "C" PRIMARY KEY CHECK (code ~ '^U[0-9]{5}$'),
    display_name         text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    commissioner_code    text COLLATE "C" NOT NULL REFERENCES commissioners (code),
    weighting_zone       text NOT NULL CHECK (weighting_zone IN ('national', 'outer_london', 'inner_london')),
    registered_list_size bigint NOT NULL CHECK (registered_list_size >= 0),
    payee_kind           text NOT NULL CHECK (payee_kind IN ('practice', 'federation', 'trust', 'pcn_account')),
    payee_ods_code       text NOT NULL DEFAULT '',
    payee_name           text NOT NULL DEFAULT '',
    -- Set only when the payee is a practice, so the foreign key below can
    -- insist that it is one of the PCN's own members.
    payee_practice       text COLLATE "C" GENERATED ALWAYS AS
                         (CASE WHEN payee_kind = 'practice' THEN payee_ods_code END) STORED,
    revision             bigint NOT NULL DEFAULT 1,
    create_time          timestamptz NOT NULL DEFAULT now(),
    update_time          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX pcns_commissioner ON pcns (commissioner_code, code);

-- A practice belongs to one PCN at a time: the practice code is the key.
CREATE TABLE pcn_practices (
    ods_code     text COLLATE "C" PRIMARY KEY CHECK (ods_code ~ '^[A-Z][0-9]{5}$'),
    pcn_code     text COLLATE "C" NOT NULL REFERENCES pcns (code),
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    position     int NOT NULL,
    UNIQUE (ods_code, pcn_code),
    UNIQUE (pcn_code, position)
);

ALTER TABLE pcns ADD CONSTRAINT pcns_payee_is_member
    FOREIGN KEY (payee_practice, code) REFERENCES pcn_practices (ods_code, pcn_code)
    DEFERRABLE INITIALLY DEFERRED;

-- Idempotent creates (AIP-155): the first call with a request_id records it in
-- the same transaction as the resource it made; a retry finds it here.
CREATE TABLE request_ids (
    request_id    uuid PRIMARY KEY,
    method        text NOT NULL,
    fingerprint   bytea NOT NULL,
    resource_name text NOT NULL DEFAULT '',
    create_time   timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE request_ids;
ALTER TABLE pcns DROP CONSTRAINT pcns_payee_is_member;
DROP TABLE pcn_practices;
DROP TABLE pcns;
DROP TABLE commissioners;
