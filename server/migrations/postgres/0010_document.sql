-- Liveform schema v10: what the document's machine-readable zone says (issue 19, items 3-4).
-- ocr: the MRZ fields read by the server from the capture that carries the zone, decided at
--   finish (core::document::DocumentData as JSON), sealed like the other personal columns.
-- identity_ix: the blind index of the holder's identity (name, birth date, sex, nationality;
--   core::document::DocumentData::identity_key) when the zone read with valid check digits:
--   duplicate-user prevention finds the same holder's earlier submissions through it.
ALTER TABLE submissions ADD COLUMN ocr TEXT;
ALTER TABLE submissions ADD COLUMN identity_ix TEXT;
CREATE INDEX submissions_pid_identity_ix ON submissions (pid, identity_ix);
