-- Liveform schema v9: the `token_expired` webhook (ARGOS, Token Expiration). A registered token
-- past the project's token_expiry_hours is announced once: the minute sweep sets
-- `expired_notified` in the same transaction that queues the webhook, so across instances and
-- restarts each expiry is sent exactly once; registering the token again clears it.
ALTER TABLE token_pool ADD COLUMN expired_notified INTEGER NOT NULL DEFAULT 0;
