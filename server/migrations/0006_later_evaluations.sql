-- When a finished run's result last gained a later evaluation (`astute eval --run`): part
-- of the fingerprint that tells cached tables and figures to recompute.
ALTER TABLE runs ADD COLUMN evaluated_at BIGINT;
-- Beside the other headline numbers, for lists, sorting and filters: test accuracy under
-- AutoAttack at the run's radius, and the gradient-masking checks it raised (a JSON list
-- of their names; NULL until the checks ran).
ALTER TABLE runs ADD COLUMN autoattack_test_acc DOUBLE PRECISION;
ALTER TABLE runs ADD COLUMN masking_raised TEXT;
