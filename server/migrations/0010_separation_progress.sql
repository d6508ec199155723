-- How far a running separation measurement's search is: its split, and queries done of
-- the split's total (written by its worker at most twice a second).
ALTER TABLE separations ADD COLUMN progress TEXT;
