-- What each source's timeline before $cutoff was computed from: its promise (ages and the
-- deadline's key, which names its calendar's version), and a count and
-- sum of hashes of its finished runs and reachability changes before it. A run's state is
-- the one it counts as (finished_runs.sql), so a min_rows that changes what a run counts as
-- changes the hash, and one that changes nothing keeps the cache.
CREATE OR REPLACE TEMP TABLE fingerprint AS
SELECT p.source_id,
       concat_ws('|', coalesce(p.warn_s::VARCHAR, '-'), coalesce(p.error_s::VARCHAR, '-'), coalesce(p.deadline, '-'), coalesce(r.n, 0), coalesce(r.h, '0'),
                 coalesce(c.n, 0), coalesce(c.h, '0')) AS fingerprint
FROM promise p
LEFT JOIN (SELECT source_id, count(*) AS n, sum(hash(ended_at, state))::VARCHAR AS h
           FROM finished_runs WHERE ended_at < $cutoff GROUP BY source_id) r USING (source_id)
LEFT JOIN (SELECT source_id, count(*) AS n, sum(hash(t, ok))::VARCHAR AS h
           FROM changes WHERE t < $cutoff GROUP BY source_id) c USING (source_id)
