-- A finished run's train accuracy beside its other headline numbers: lists show it, and a
-- run whose train accuracy is within a few points of chance is marked as one that did not
-- train. Runs finished before this column existed are filled in when the store opens.
ALTER TABLE runs ADD COLUMN train_acc DOUBLE PRECISION;
