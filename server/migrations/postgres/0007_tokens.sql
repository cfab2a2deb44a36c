-- Liveform schema v7: private mode and the token pool (issue 18, item 2).
-- token_pool: the tokens an integrator registered through the Token API (POST
--   /v3/submission/tokens). A token is personal-ish data: `token_ix` is its keyed blind index
--   (server/src/pii.rs, the same index the private-token ledger and submissions.token_ix use),
--   `token` the value sealed for `token_pool.token/<pid>/<token_ix>` (GET lists the values, as
--   ARGOS does). `updated_ms`: when it was (last) registered (ARGOS `updateTime`); a project's
--   `token_expiry_hours` counts from it.
-- private_tokens.status: the status of the decided submission that used the token (approved,
--   pending, rejected), for the TK page when that submission is gone; NULL in rows from before v7.
CREATE TABLE token_pool (
    pid        TEXT NOT NULL,
    token_ix   TEXT NOT NULL,
    token      TEXT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (pid, token_ix)
);
-- Keyset paging of GET /v3/submission/tokens and the expiry sweep.
CREATE INDEX token_pool_page ON token_pool (pid, updated_ms, token_ix);
ALTER TABLE private_tokens ADD COLUMN status TEXT;
