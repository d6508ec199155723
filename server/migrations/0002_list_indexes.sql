-- Indexes for the run list's filters and sorts (every list sorts by a column, then id).
CREATE INDEX runs_by_dataset ON runs (dataset, created_at, id);
CREATE INDEX runs_by_test_acc ON runs (test_acc, id);
CREATE INDEX runs_by_adv_test_acc ON runs (adv_test_acc, id);
-- Counting the matches of the usual filters from the index alone.
CREATE INDEX runs_filters ON runs (dataset, status, method, architecture);
