-- +goose Up
-- A claim line's role is its post's role: it is copied from the post when
-- the line is drafted, and a post's role never changes (UpdatePost keeps
-- it). Two foreign keys held half of that — the post exists, the role
-- exists — and not that they agree. One composite key onto the post holds
-- all of it (the post's own key onto roles keeps the role real), and checks
-- each line once instead of twice: a month's claim of 30 lines made 60 key
-- checks, a tenth of its insert's time at national scale.
--
-- posts_role already indexed (role_id, pcn_code, id) for the role's posts;
-- made unique (the primary key makes it so anyway) it is what the key refers
-- to, so no index is added.
CREATE UNIQUE INDEX posts_role_key ON posts (role_id, pcn_code, id);
DROP INDEX posts_role;
ALTER TABLE posts ADD CONSTRAINT posts_role_key UNIQUE USING INDEX posts_role_key;
ALTER TABLE claim_lines
    ADD CONSTRAINT claim_lines_post_and_role_fkey FOREIGN KEY (role_id, pcn_code, post_id)
        REFERENCES posts (role_id, pcn_code, id),
    DROP CONSTRAINT claim_lines_pcn_code_post_id_fkey,
    DROP CONSTRAINT claim_lines_role_id_fkey;

-- +goose Down
ALTER TABLE claim_lines
    ADD CONSTRAINT claim_lines_pcn_code_post_id_fkey FOREIGN KEY (pcn_code, post_id) REFERENCES posts (pcn_code, id),
    ADD CONSTRAINT claim_lines_role_id_fkey FOREIGN KEY (role_id) REFERENCES roles (id),
    DROP CONSTRAINT claim_lines_post_and_role_fkey;
ALTER TABLE posts DROP CONSTRAINT posts_role_key;
CREATE INDEX posts_role ON posts (role_id, pcn_code, id);
