-- Posts: each PCN's workforce plan and staff in post.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE posts (
    pcn_code            text COLLATE "C" NOT NULL REFERENCES pcns (code),
    id                  text COLLATE "C" NOT NULL CHECK (id ~ '^[a-z0-9][a-z0-9-]{2,61}[a-z0-9]$'),
    role_id             text COLLATE "C" NOT NULL REFERENCES roles (id),
    state               text NOT NULL CHECK (state IN ('planned', 'recruiting', 'filled', 'ended')),
    staff_name          text NOT NULL DEFAULT '' CHECK (length(staff_name) <= 200),
    registration_number text NOT NULL DEFAULT '' CHECK (registration_number ~ '^[0-9A-Z]{0,12}$'),
    wte                 numeric(5, 4) NOT NULL CHECK (wte > 0 AND wte <= 1),
    start_date          date NOT NULL,
    end_date            date CHECK (end_date IS NULL OR end_date >= start_date),
    employer            text NOT NULL DEFAULT '' CHECK (length(employer) <= 200),
    focus_cohort        text NOT NULL DEFAULT 'unspecified'
                        CHECK (focus_cohort IN ('unspecified', 'frail_older_people', 'off_work', 'mental_health', 'other')),
    baseline            boolean NOT NULL DEFAULT false,
    -- Who holds the post: the registration number when there is one (it is
    -- unique to a person), otherwise the name.
    person_key          text GENERATED ALWAYS AS (
                            CASE WHEN registration_number <> '' THEN registration_number
                                 WHEN staff_name <> '' THEN lower(staff_name) END) STORED,
    revision            bigint NOT NULL DEFAULT 1,
    create_time         timestamptz NOT NULL DEFAULT now(),
    update_time         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pcn_code, id),
    CHECK (state NOT IN ('filled') OR staff_name <> ''),
    CHECK (state IN ('filled', 'ended') OR (staff_name = '' AND registration_number = '')),
    -- One person cannot hold two posts in the same role on the same day,
    -- in any PCN: that would be claimed twice.
    CONSTRAINT posts_no_overlapping_person EXCLUDE USING gist (
        role_id WITH =, person_key WITH =, daterange(start_date, end_date, '[]') WITH &&
    ) WHERE (person_key IS NOT NULL)
);

CREATE INDEX posts_role ON posts (role_id, pcn_code, id);

-- +goose Down
DROP TABLE posts;
