-- A run's files (its checkpoint while it trains, its weights once done) kept in the
-- database itself, for labs whose processes share no folder. An artifact's row names its
-- current upload, whose bytes are numbered chunks; the row, the chunks and the removal of
-- the upload it replaces are committed in one transaction, so an upload cut short leaves
-- the previous one in place and nothing of its own.
CREATE TABLE artifacts (
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    upload TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    stored_at BIGINT NOT NULL,
    PRIMARY KEY (run_id, kind)
);

CREATE TABLE artifact_chunks (
    upload TEXT NOT NULL,
    seq BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (upload, seq)
);
