-- +goose Up
-- Every table-level CHECK gets a name that says its rule: PostgreSQL's own
-- names for them (posts_check, posts_check1, …) depend on declaration order,
-- so a later migration dropping one by that name would drop the wrong rule.
-- Column CHECKs keep their generated names (table_column_check), which
-- already name what they guard.
ALTER TABLE commissioners RENAME CONSTRAINT commissioners_check TO commissioners_valid_to_after_from;
ALTER TABLE commissioners RENAME CONSTRAINT commissioners_check1 TO commissioners_ccg_code_and_dates;
ALTER TABLE commissioners RENAME CONSTRAINT commissioners_check2 TO commissioners_icb_code_and_dates;
ALTER TABLE roles RENAME CONSTRAINT roles_check TO roles_reimbursable_to_after_from;
ALTER TABLE roles RENAME CONSTRAINT roles_check1 TO roles_register_prefix;
ALTER TABLE posts RENAME CONSTRAINT posts_check TO posts_end_after_start;
ALTER TABLE posts RENAME CONSTRAINT posts_check1 TO posts_filled_names_staff;
ALTER TABLE posts RENAME CONSTRAINT posts_check2 TO posts_unstaffed_names_nobody;
ALTER TABLE claims RENAME CONSTRAINT claims_check TO claims_submitted_has_time;
ALTER TABLE claim_lines RENAME CONSTRAINT claim_lines_check TO claim_lines_approved_within_claimed;

-- +goose Down
ALTER TABLE claim_lines RENAME CONSTRAINT claim_lines_approved_within_claimed TO claim_lines_check;
ALTER TABLE claims RENAME CONSTRAINT claims_submitted_has_time TO claims_check;
ALTER TABLE posts RENAME CONSTRAINT posts_unstaffed_names_nobody TO posts_check2;
ALTER TABLE posts RENAME CONSTRAINT posts_filled_names_staff TO posts_check1;
ALTER TABLE posts RENAME CONSTRAINT posts_end_after_start TO posts_check;
ALTER TABLE roles RENAME CONSTRAINT roles_register_prefix TO roles_check1;
ALTER TABLE roles RENAME CONSTRAINT roles_reimbursable_to_after_from TO roles_check;
ALTER TABLE commissioners RENAME CONSTRAINT commissioners_icb_code_and_dates TO commissioners_check2;
ALTER TABLE commissioners RENAME CONSTRAINT commissioners_ccg_code_and_dates TO commissioners_check1;
ALTER TABLE commissioners RENAME CONSTRAINT commissioners_valid_to_after_from TO commissioners_check;
