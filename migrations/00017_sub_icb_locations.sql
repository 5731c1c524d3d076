-- Sub-ICB locations: since 1 July 2022 each ICB's area is divided into
-- sub-ICB locations that keep the codes of the CCGs they replaced (`00L`,
-- some 5 characters like `D4U1Y`). A PCN is in one sub-ICB location of its
-- own commissioner, and the workforce statistics break an ICB's figures
-- down by them.
--
-- A claim records the sub-ICB location of its month beside its
-- commissioner (the one claims.commissioner_code already records, from
-- pcn_commissioners), so a PCN that moves leaves its past months where they
-- were, and the statistics group the claims' own columns (no join to pcns,
-- no per-line scan: the claim's maintained totals of 00016 are what they
-- add up).

-- +goose Up
-- A sub-ICB location belongs to an ICB, never a CCG: the kind is part of
-- the foreign key, so the database itself refuses a CCG parent.
ALTER TABLE commissioners ADD CONSTRAINT commissioners_code_kind UNIQUE (code, kind);

CREATE TABLE sub_icb_locations (
    code              text COLLATE "C" PRIMARY KEY,
    commissioner_code text COLLATE "C" NOT NULL,
    commissioner_kind text NOT NULL DEFAULT 'icb',
    display_name      text NOT NULL,
    revision          bigint NOT NULL DEFAULT 1,
    create_time       timestamptz NOT NULL DEFAULT now(),
    update_time       timestamptz NOT NULL DEFAULT now(),
    -- A CCG's code shape; a 3-character code starting Q is an ICB's.
    CONSTRAINT sub_icb_locations_code_format CHECK (code ~ '^([0-9A-Z]{3}|[0-9A-Z]{5})$' AND code !~ '^Q[0-9A-Z]{2}$'),
    CONSTRAINT sub_icb_locations_display_name_length CHECK (length(display_name) BETWEEN 1 AND 200),
    CONSTRAINT sub_icb_locations_of_an_icb CHECK (commissioner_kind = 'icb'),
    CONSTRAINT sub_icb_locations_commissioner FOREIGN KEY (commissioner_code, commissioner_kind)
        REFERENCES commissioners (code, kind),
    -- The target of the composite keys below, and the listing's order.
    CONSTRAINT sub_icb_locations_in_commissioner UNIQUE (commissioner_code, code)
);

-- A PCN's sub-ICB location is one of its own commissioner's: the pair is
-- the key, so a PCN cannot be in another ICB's location, nor keep one when
-- it moves to another ICB. NULL: not recorded (MATCH SIMPLE skips it).
ALTER TABLE pcns ADD COLUMN sub_icb_location_code text COLLATE "C",
    ADD CONSTRAINT pcns_sub_icb_location_of_commissioner FOREIGN KEY (commissioner_code, sub_icb_location_code)
        REFERENCES sub_icb_locations (commissioner_code, code);

-- The history keeps the location with the commissioner: a row now says
-- where the PCN was (commissioner and sub-ICB location) until valid_to.
ALTER TABLE pcn_commissioners ADD COLUMN sub_icb_location_code text COLLATE "C",
    ADD CONSTRAINT pcn_commissioners_sub_icb_location_of_commissioner FOREIGN KEY (commissioner_code, sub_icb_location_code)
        REFERENCES sub_icb_locations (commissioner_code, code);

-- The claim's month's location, under the same rule as its commissioner.
ALTER TABLE claims ADD COLUMN sub_icb_location_code text COLLATE "C",
    ADD CONSTRAINT claims_sub_icb_location_of_commissioner FOREIGN KEY (commissioner_code, sub_icb_location_code)
        REFERENCES sub_icb_locations (commissioner_code, code);

-- The statistics read one year's claims, of every commissioner, of one, or
-- of one of its sub-ICB locations: each a prefix of this index.
CREATE INDEX claims_statistics ON claims (financial_year, commissioner_code, sub_icb_location_code);

-- +goose Down
DROP INDEX claims_statistics;
ALTER TABLE claims DROP COLUMN sub_icb_location_code;
ALTER TABLE pcn_commissioners DROP COLUMN sub_icb_location_code;
ALTER TABLE pcns DROP COLUMN sub_icb_location_code;
DROP TABLE sub_icb_locations;
ALTER TABLE commissioners DROP CONSTRAINT commissioners_code_kind;
