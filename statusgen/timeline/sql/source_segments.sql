-- Each source's status over time: segments(source_id, start, stop, sev).
CREATE OR REPLACE TEMP TABLE segments AS
-- Clipped to the window, so that where a stretch began before it does not depend on
-- how much of the past this render read. A stretch that ended before the window is
-- dropped, not clipped: clipped, it would end before it starts.
SELECT source_id, greatest(start, $window_start) AS start, stop, sev FROM (
-- DuckDB keeps a CTE read more than once as a table: kept, seen_events and ordered (2.2 M
-- rows each at 1,000 sources × 90 days) raised this query's peak RSS by ≈ 250 MB. So the
-- events are read again where they are needed, for no more CPU, and ordered is read once.
WITH seen_events AS NOT MATERIALIZED (
    -- A source the cache holds starts from its state at the cutoff; one nothing was known
    -- of before it has no state there: read raw, its timeline begins at its first event.
    SELECT source_id, $cutoff AS t, {carried_seq} AS seq, state, last_success AS success_at, seen_ok FROM carried
    WHERE state IS NOT NULL OR seen_ok IS NOT NULL
    UNION ALL
    SELECT r.source_id, r.ended_at, {run_seq}, r.state, CASE WHEN r.state = {success_state} THEN r.ended_at END, NULL
    FROM finished_runs r LEFT JOIN carried c USING (source_id) WHERE c.source_id IS NULL OR r.ended_at >= $cutoff
    UNION ALL
    SELECT h.source_id, h.t, {change_seq}, NULL, NULL, h.ok
    FROM changes h LEFT JOIN carried c USING (source_id) WHERE c.source_id IS NULL OR h.t >= $cutoff
),
events AS (
    SELECT * FROM seen_events
    UNION ALL
    -- A deadline's tick, and the end of its grace, change the status with nothing seen: they
    -- cut the timeline too, after what happened at the same instant (a load at 06:00 meets a
    -- 06:00 deadline). Only after the source's first event: before it nothing is known.
    SELECT k.source_id, k.t, {tick_seq}, NULL, NULL, NULL
    FROM (SELECT source_id, tick AS t FROM ticks UNION SELECT source_id, late_until FROM ticks WHERE late_until > tick) k
    JOIN (SELECT source_id, min(t) AS first_t FROM seen_events GROUP BY source_id) f USING (source_id)
    LEFT JOIN carried c USING (source_id)
    WHERE k.t > f.first_t AND (c.source_id IS NULL OR k.t >= $cutoff)
),
ordered AS (
    -- In the order of `seq` (statusgen/timeline/queries.py's _event_order_parts): by instant, and at
    -- one instant the cache's state, runs by the one order statusgen.status gives them,
    -- collections by whether they reached the source (as the cache and reachability_changes
    -- order them), then deadlines.
    -- Each carries the latest state, success and reachability before it: its own, else the
    -- previous row's that has one (lag IGNORE NULLS reads back without the frames of a running
    -- aggregate, ≈ 0.6 s less at 2.2 M events). Successes only grow with t, so the latest is the last.
    SELECT source_id, t AS start,
           coalesce(state, lag(state IGNORE NULLS) OVER w) AS state,
           coalesce(success_at, lag(success_at IGNORE NULLS) OVER w) AS last_success,
           coalesce(seen_ok, lag(seen_ok IGNORE NULLS) OVER w, true) AS seen_ok,
           coalesce(lead(t) OVER w, $cover) AS stop,
           lead(t) OVER w IS NULL AS last
    FROM events
    WINDOW w AS (PARTITION BY source_id ORDER BY seq)
),
met AS (
    -- The first tick each last success does not meet (deadline_severity.sql's k), for the
    -- sources with a deadline alone: an ASOF join of every piece sorted them all, even with no
    -- deadline anywhere (≈ 20 % of this query at 1,000 sources × 90 days). A piece's last
    -- success is one of its source's successes, so they are read from the events, which keeps
    -- ordered read once.
    SELECT s.source_id, s.success_at AS success, k.tick, k.late_until
    FROM (SELECT DISTINCT source_id, success_at FROM seen_events SEMI JOIN first_ticks USING (source_id)
          WHERE success_at IS NOT NULL) s
    ASOF JOIN ticks k ON s.source_id = k.source_id AND s.success_at <= k.bound
),
aged AS (
    -- When the last success gets too old: past warn_after (t1), then error_after (t2); and
    -- what the deadlines ask at the piece's start (deadline_severity.sql).
    SELECT o.*, {state_severity} AS state_sev,
           last_success + to_seconds(coalesce(warn_s, error_s)) AS t1, last_success + to_seconds(error_s) AS t2,
           {deadline_severity} AS dl
    FROM ordered o JOIN promise USING (source_id)
    LEFT JOIN met k ON k.source_id = o.source_id AND k.success = o.last_success
    LEFT JOIN first_ticks f ON f.source_id = o.source_id
    -- Of several events at the moment of the last collection, only the last holds on.
    WHERE (stop > start OR (start = $cover AND last)) AND stop > $window_start
),
pieces AS (
    SELECT *, CASE WHEN seen_ok THEN greatest(state_sev, dl) ELSE {unknown} END AS fresh,
              CASE WHEN seen_ok THEN greatest(state_sev, dl, {degraded}) ELSE {unknown} END AS late,
              CASE WHEN seen_ok THEN {failing} ELSE {unknown} END AS overdue,
              CASE WHEN t1 IS NULL THEN stop ELSE least(stop, greatest(start, t1)) END AS p1,
              CASE WHEN t2 IS NULL THEN stop ELSE least(stop, greatest(start, t2)) END AS p2
    FROM aged
),
split AS (
    SELECT source_id, start, p1 AS stop, fresh AS sev FROM pieces WHERE p1 > start
    UNION ALL
    SELECT source_id, p1, p2, late FROM pieces WHERE p2 > p1
    UNION ALL
    SELECT source_id, p2, stop, overdue FROM pieces WHERE stop > p2
    UNION ALL
    -- What an event at the very moment of the last collection made the status: it
    -- lasts no time on the bars, but it is the status the source has now.
    SELECT source_id, start, stop, {status_at_start} FROM pieces WHERE stop = start
    UNION ALL
    SELECT * FROM carried_segments WHERE stop > $window_start
),
{merged})
WHERE stop > $window_start
