-- A finished run's accuracy under PGD-10 and Lipschitz constant on its training images beside
-- its other headline numbers, so lists show and filter the adversarial gap. Runs finished
-- before these columns existed are filled in when the store opens.
ALTER TABLE runs ADD COLUMN adv_train_acc DOUBLE PRECISION;
ALTER TABLE runs ADD COLUMN train_lipschitz DOUBLE PRECISION;
