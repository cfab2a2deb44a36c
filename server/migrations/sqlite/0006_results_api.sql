-- Liveform schema v6: the results API as ARGOS documents it (issue 18, item 1).
-- ip_address: the person's address as the server saw it when the session opened (ARGOS
--   `ipAddress`), personal data: sealed like e-mail (server/src/pii.rs), no blind index.
-- person: identity fields an integrator inserted with POST /v3/submission (ARGOS's migration
--   insert: full name, birth date, document numbers, address...), a sealed JSON object.
-- comment_code: ARGOS's reject code (`commentCode`) of a rejection.
-- origin: where the record came from: `form` (a person, through the form) or `migration`
--   (POST /v3/submission: nothing verified by this server); for a capture `form` or `api`
--   (PUT /v3/submission/image: decoded and checked like an upload, but not taken by the form).
ALTER TABLE submissions ADD COLUMN ip_address TEXT;
ALTER TABLE submissions ADD COLUMN person TEXT;
ALTER TABLE submissions ADD COLUMN comment_code TEXT;
ALTER TABLE submissions ADD COLUMN origin TEXT NOT NULL DEFAULT 'form';
ALTER TABLE captures ADD COLUMN origin TEXT NOT NULL DEFAULT 'form';
-- Keyset paging of GET /v3/submission: newest first by (created_ms, id).
CREATE INDEX submissions_page ON submissions (pid, created_ms, id);
