-- A query is a conversation: the approver's questions and the PCN's
-- replies, each message with its author; and how long each side has held a
-- claim, since the time the commissioner holds it is what delays payment.

-- +goose Up
CREATE TABLE claim_messages (
    pcn_code      text COLLATE "C" NOT NULL,
    claim_id      text COLLATE "C" NOT NULL,
    -- 1, 2, 3… per claim with no gaps: a message is numbered under the
    -- claim's row lock, as the next after the claim's newest.
    number        int NOT NULL CHECK (number >= 1),
    kind          text NOT NULL CHECK (kind IN ('question', 'reply')),
    author        text NOT NULL CHECK (author <> ''),
    role          text NOT NULL CHECK (role <> ''),
    organisation  text NOT NULL,
    text          text NOT NULL CHECK (length(btrim(text)) > 0 AND length(text) <= 2000),
    evidence_uris text[] NOT NULL DEFAULT '{}' CHECK (cardinality(evidence_uris) <= 10),
    create_time   timestamptz NOT NULL,
    PRIMARY KEY (pcn_code, claim_id, number),
    FOREIGN KEY (pcn_code, claim_id) REFERENCES claims (pcn_code, id)
);

-- Who holds a claim follows from its state (SUBMITTED: the commissioner;
-- QUERIED: the PCN); held_since is when the current holding began, and the
-- seconds columns add up the holdings that have ended.
ALTER TABLE claims
    ADD COLUMN commissioner_held_seconds bigint NOT NULL DEFAULT 0 CHECK (commissioner_held_seconds >= 0),
    ADD COLUMN pcn_held_seconds          bigint NOT NULL DEFAULT 0 CHECK (pcn_held_seconds >= 0),
    ADD COLUMN held_since                timestamptz;
-- Claims from before: the holding under way began at the submission or the
-- query, and a reviewed claim's commissioner held it from its last
-- submission to its review. Earlier rounds were not recorded.
UPDATE claims SET held_since = submit_time WHERE state = 'submitted';
UPDATE claims SET held_since = review_time WHERE state = 'queried';
UPDATE claims SET commissioner_held_seconds = GREATEST(extract(epoch FROM review_time - submit_time)::bigint, 0)
    WHERE state IN ('approved', 'paid', 'rejected', 'queried') AND review_time IS NOT NULL AND submit_time IS NOT NULL;
ALTER TABLE claims ADD CONSTRAINT claims_held CHECK ((state IN ('submitted', 'queried')) = (held_since IS NOT NULL));

-- +goose Down
ALTER TABLE claims DROP CONSTRAINT claims_held;
ALTER TABLE claims DROP COLUMN held_since, DROP COLUMN pcn_held_seconds, DROP COLUMN commissioner_held_seconds;
DROP TABLE claim_messages;
