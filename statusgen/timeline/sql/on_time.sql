-- Each source's deadlines in the window since its first event (its first run read, or its
-- first collection: where its bar begins too), and how many were met on time: a success
-- landed after the tick's bound and no later than the tick itself.
WITH first_seen AS (
    SELECT source_id, min(t) AS t FROM (SELECT source_id, ended_at AS t FROM finished_runs UNION ALL SELECT source_id, t FROM changes)
    GROUP BY source_id
),
due AS (
    SELECT k.source_id, k.tick, bool_or(r.ended_at IS NOT NULL) AS met
    FROM ticks k JOIN first_seen f ON f.source_id = k.source_id AND k.tick >= f.t
    LEFT JOIN finished_runs r ON r.source_id = k.source_id AND r.state = {success_state}
         AND r.ended_at <= k.tick AND (k.bound IS NULL OR r.ended_at > k.bound)
    WHERE k.tick >= $window_start AND k.tick <= $cover
    GROUP BY k.source_id, k.tick
)
SELECT source_id, count(*), count(*) FILTER (WHERE met) FROM due GROUP BY source_id
