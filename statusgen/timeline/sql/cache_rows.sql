-- What the cache keeps: each source's state at $cutoff (rows with no start) and its merged
-- segments before it.
CREATE OR REPLACE TEMP TABLE timeline_cache AS
SELECT f.source_id, NULL::TIMESTAMP AS start, NULL::TIMESTAMP AS stop, NULL::INTEGER AS sev,
       r.state, r.last_success, c.seen_ok, f.fingerprint
FROM fingerprint f
LEFT JOIN (SELECT source_id, arg_max(state, {run_order}) AS state,
                  max(ended_at) FILTER (WHERE state = {success_state}) AS last_success
           FROM finished_runs WHERE ended_at < $cutoff GROUP BY source_id) r USING (source_id)
LEFT JOIN (SELECT source_id, arg_max(ok, (t, ok)) AS seen_ok FROM changes WHERE t < $cutoff GROUP BY source_id) c USING (source_id)
UNION ALL
SELECT source_id, start, least(stop, $cutoff), sev, NULL, NULL, NULL, NULL FROM segments WHERE start < $cutoff
