-- What the application role may do, run as arrs_owner after every
-- `arrsd migrate` (GRANT is idempotent). A migration that adds a table adds
-- it here too: migrations/grants_test.go fails until it does.
--
-- The audit trail is append-only for arrs_app by privilege as well as by
-- trigger: SELECT and INSERT on audit_events, nothing else; USAGE on the
-- sequence its seqs come from. audit_heads (each chain's newest event) is
-- read, started for a new chain and advanced: SELECT, INSERT, UPDATE. goose_db_version is read by the readiness check.

GRANT SELECT, INSERT, UPDATE, DELETE ON
    commissioners, sub_icb_locations, pcns, pcn_practices, pcn_commissioners, request_ids,
    roles, role_headcount_caps, role_rules, rates,
    financial_years, entitlements,
    posts, claims, claim_lines, claim_messages, claim_role_totals,
    training_hubs, training_hub_practices, cpd_schemes, cpd_baselines, cpd_allocations,
    cpd_needs, cpd_courses, cpd_requests
TO arrs_app;

GRANT SELECT, INSERT ON audit_events TO arrs_app;
GRANT USAGE ON SEQUENCE audit_events_seq TO arrs_app;
GRANT SELECT, INSERT, UPDATE ON audit_heads TO arrs_app;
GRANT SELECT ON goose_db_version TO arrs_app;
