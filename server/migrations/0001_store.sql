-- The store of runs, their events and API tokens. Portable SQL: the same file runs on
-- SQLite (the embedded default) and PostgreSQL (a shared lab). Times are milliseconds
-- since the Unix epoch; flags are 0/1 integers; JSON documents are text.

CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    dataset TEXT NOT NULL,
    architecture TEXT NOT NULL,
    method TEXT NOT NULL,
    dropout DOUBLE PRECISION NOT NULL,
    epsilon DOUBLE PRECISION NOT NULL,
    epochs BIGINT NOT NULL,
    seed BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    worker TEXT,
    lease_until BIGINT,
    attempts BIGINT NOT NULL,
    cancel_requested BIGINT NOT NULL,
    epochs_done BIGINT NOT NULL,
    error TEXT,
    result TEXT,
    test_acc DOUBLE PRECISION,
    adv_test_acc DOUBLE PRECISION,
    test_lipschitz DOUBLE PRECISION,
    provenance TEXT NOT NULL
);
CREATE INDEX runs_by_status ON runs (status, created_at, id);
CREATE INDEX runs_by_created ON runs (created_at, id);

CREATE TABLE run_events (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
