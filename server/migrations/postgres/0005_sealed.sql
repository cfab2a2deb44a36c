-- Liveform schema v5: personal data sealed at rest (issue 15, finding 6; server/src/pii.rs).
-- userid, email, cf1-cf3 and token of a submission hold sealed text once `sealed` = 1 (rows
-- written before v5 are sealed by the server when it opens the database); lookups go through
-- keyed blind indexes (HMAC) instead of the clear columns. Session data and webhook bodies are
-- sealed in place (their clear form is a JSON object, the sealed one starts with "s1.").
ALTER TABLE submissions ADD COLUMN sealed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN userid_ix TEXT;
ALTER TABLE submissions ADD COLUMN email_ix TEXT;
ALTER TABLE submissions ADD COLUMN token_ix TEXT;
DROP INDEX submissions_pid_userid;
DROP INDEX submissions_pid_email;
CREATE INDEX submissions_pid_userid_ix ON submissions (pid, userid_ix);
CREATE INDEX submissions_pid_email_ix ON submissions (pid, email_ix);
CREATE INDEX submissions_pid_token_ix ON submissions (pid, token_ix);
CREATE INDEX submissions_unsealed ON submissions (sealed) WHERE sealed = 0;
