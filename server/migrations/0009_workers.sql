-- The worker processes of a lab: each registers when it starts and renews its heartbeat
-- while it lives; one silent for its lease is dead, and is no longer listed.
CREATE TABLE workers (
    name TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    backend TEXT NOT NULL,
    slots BIGINT NOT NULL,
    version TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    lease_ms BIGINT NOT NULL
);
