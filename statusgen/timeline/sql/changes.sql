-- Status changes of components from $since on: where one stretch ends and the next begins
-- (a gap with no data between them is no change). Newest first, and by component at one
-- instant: an order that varied would change the feed between renders.
SELECT component_id, start, sev, lag(sev) OVER w AS before, lag(stop) OVER w AS before_stop
FROM component_segments WINDOW w AS (PARTITION BY component_id ORDER BY start)
QUALIFY before IS NOT NULL AND before_stop = start AND start >= $since
ORDER BY start DESC, component_id LIMIT $limit
