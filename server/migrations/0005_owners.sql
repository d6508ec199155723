-- Who may change what. A run or measurement belongs to the token that queued it (the
-- SHA-256 hash it is stored under); 'shipped' marks the results a new store starts with
-- (read-only to everyone); NULL marks results recorded by the CLI (admin tokens only).
-- Tokens may be admin tokens, expire, or be revoked.
ALTER TABLE runs ADD COLUMN owner TEXT;
ALTER TABLE separations ADD COLUMN owner TEXT;
ALTER TABLE tokens ADD COLUMN admin BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE tokens ADD COLUMN revoked_at BIGINT;
CREATE INDEX runs_by_owner ON runs (owner, status);
CREATE INDEX separations_by_owner ON separations (owner, status);
