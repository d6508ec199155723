-- Separation measurements are jobs too: queued, claimed with a lease, done with their
-- reports (Train–Train and Test–Train) as JSON and the two minima as columns for Table 1.
CREATE TABLE separations (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    dataset TEXT NOT NULL,
    metric TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    worker TEXT,
    lease_until BIGINT,
    attempts BIGINT NOT NULL,
    cancel_requested BIGINT NOT NULL,
    error TEXT,
    reports TEXT,
    min_train_train DOUBLE PRECISION,
    min_test_train DOUBLE PRECISION,
    seconds DOUBLE PRECISION,
    provenance TEXT NOT NULL
);
CREATE INDEX separations_by_status ON separations (status, created_at, id);
CREATE INDEX separations_by_dataset ON separations (dataset, created_at, id);
