-- Financial years and each PCN's yearly entitlement.

-- +goose Up
CREATE TABLE financial_years (
    id                        text COLLATE "C" PRIMARY KEY
                              CHECK (id ~ '^[0-9]{4}-[0-9]{2}$'
                                     AND right(id, 2)::int = (left(id, 4)::int + 1) % 100),
    rate_per_weighted_patient numeric(10, 4) NOT NULL CHECK (rate_per_weighted_patient > 0),
    revision                  bigint NOT NULL DEFAULT 1,
    create_time               timestamptz NOT NULL DEFAULT now(),
    update_time               timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE entitlements (
    pcn_code            text COLLATE "C" NOT NULL REFERENCES pcns (code),
    financial_year      text COLLATE "C" NOT NULL REFERENCES financial_years (id),
    weighted_population numeric(14, 4) NOT NULL CHECK (weighted_population >= 0),
    revision            bigint NOT NULL DEFAULT 1,
    create_time         timestamptz NOT NULL DEFAULT now(),
    update_time         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pcn_code, financial_year)
);

-- +goose Down
DROP TABLE entitlements;
DROP TABLE financial_years;
