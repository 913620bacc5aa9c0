-- Each source's inputs to the status rule at $cover alone: what its timeline's last segment
-- depends on the past through (see cache.py), without the segments. Ties at one instant are
-- broken as the timeline breaks them; a source nothing is known of is left out, as it has
-- no segment. The first deadline tick its last success does not meet is k (f: nothing ever
-- succeeded).
WITH runs AS (
    SELECT source_id, arg_max(state, {run_order}) AS state,
           max(ended_at) FILTER (WHERE state = {success_state}) AS last_success
    FROM finished_runs GROUP BY source_id
),
seen AS (SELECT source_id, arg_max(ok, (t, ok)) AS seen_ok FROM changes GROUP BY source_id)
SELECT promise.source_id, runs.state, runs.last_success, {state_severity} AS state_sev,
       coalesce(seen.seen_ok, true) AS seen_ok,
       runs.last_success + to_seconds(coalesce(warn_s, error_s)) AS t1, runs.last_success + to_seconds(error_s) AS t2,
       {deadline_severity} AS dl,
       CASE WHEN runs.last_success IS NULL THEN f.tick ELSE k.tick END AS due_tick
FROM promise LEFT JOIN runs USING (source_id) LEFT JOIN seen USING (source_id)
ASOF LEFT JOIN ticks k ON promise.source_id = k.source_id AND runs.last_success <= k.bound
LEFT JOIN first_ticks f ON f.source_id = promise.source_id
WHERE runs.source_id IS NOT NULL OR seen.source_id IS NOT NULL
