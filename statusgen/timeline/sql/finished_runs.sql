-- Kept for the failed runs and the cache: reading the runs is worth doing once. Each run's
-- state is the one it counts as by its source's min_rows, so everything after (the latest
-- state, the last success, the deadlines met, the cache's fingerprint) follows it.
CREATE OR REPLACE TEMP TABLE finished_runs AS SELECT r.source_id, p.n, r.ended_at, ({counted_state})::{state_type} AS state FROM runs r
JOIN promise p USING (source_id) WHERE r.ended_at IS NOT NULL AND r.ended_at <= $cover AND r.state IN ({finished_states})
