-- Kept for the failed runs and the cache: reading the runs is worth doing once.
CREATE OR REPLACE TEMP TABLE finished_runs AS SELECT source_id, ended_at, state FROM runs
WHERE ended_at IS NOT NULL AND ended_at <= $cover AND state IN ({finished_states}) AND source_id IN (SELECT source_id FROM promise)
