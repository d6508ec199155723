-- How a result was made: the `astute reproduce` scale (smoke, cpu, paper; NULL for a run
-- asked for directly) and, for a run or measurement on a stand-in dataset, the dataset of
-- the paper it stands in for (its numbers go in that dataset's rows, marked).
ALTER TABLE runs ADD COLUMN scale TEXT;
ALTER TABLE runs ADD COLUMN stands_in_for TEXT;
ALTER TABLE separations ADD COLUMN scale TEXT;
