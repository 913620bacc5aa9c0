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
    -- By the source's number n (promise.sql), not its id, to the end of the stretches.
    -- A source the cache holds starts from its state at the cutoff; one nothing was known
    -- of before it has no state there: read raw, its timeline begins at its first event.
    SELECT p.n, $cutoff AS t, {carried_seq} AS seq, c.state, c.last_success AS success_at, c.seen_ok
    FROM carried c JOIN promise p USING (source_id) WHERE c.state IS NOT NULL OR c.seen_ok IS NOT NULL
    UNION ALL
    SELECT r.n, r.ended_at, {run_seq}, r.state, CASE WHEN r.state = {success_state} THEN r.ended_at END, NULL
    FROM finished_runs r LEFT JOIN carried c USING (source_id) WHERE c.source_id IS NULL OR r.ended_at >= $cutoff
    UNION ALL
    SELECT p.n, h.t, {change_seq}, NULL, NULL, h.ok
    FROM changes h JOIN promise p USING (source_id) LEFT JOIN carried c USING (source_id) WHERE c.source_id IS NULL OR h.t >= $cutoff
),
deadline_ticks AS (SELECT p.n, k.tick, k.bound, k.late_until FROM ticks k JOIN promise p USING (source_id)),
first_deadline_ticks AS (SELECT p.n, f.tick, f.late_until FROM first_ticks f JOIN promise p USING (source_id)),
events AS (
    SELECT * FROM seen_events
    UNION ALL
    -- A deadline's tick, and the end of its grace, change the status with nothing seen: they
    -- cut the timeline too, after what happened at the same instant (a load at 06:00 meets a
    -- 06:00 deadline). Only after the source's first event: before it nothing is known; and
    -- not after the last collection (a grace may end later), where nothing is known yet either.
    SELECT p.n, k.t, {tick_seq}, NULL, NULL, NULL
    FROM (SELECT source_id, tick AS t FROM ticks UNION SELECT source_id, late_until FROM ticks WHERE late_until > tick) k
    JOIN promise p USING (source_id) LEFT JOIN carried c USING (source_id)
    JOIN (SELECT n, min(t) AS first_t FROM seen_events GROUP BY n) f ON f.n = p.n
    WHERE k.t > f.first_t AND k.t <= $cover AND (c.source_id IS NULL OR k.t >= $cutoff)
),
ordered AS (
    -- In the order of `seq` (statusgen/timeline/queries.py's _event_order_parts): by instant, and at
    -- one instant the cache's state, runs by the one order statusgen.status gives them,
    -- collections by whether they reached the source (as the cache and reachability_changes
    -- order them), then deadlines.
    -- Each event opens a piece that lasts until the next. It carries the latest state, success
    -- and reachability before it: its own, else those the piece before it carried (lag IGNORE
    -- NULLS reads back without the frames of a running aggregate, ≈ 0.6 s less at 2.2 M
    -- events). Successes only grow with t, so the latest is the last. What the piece before
    -- carried is kept too: it tells whether this piece starts a new stretch (opened, below).
    SELECT n, t AS start, coalesce(t_after, $cover) AS stop, t_after IS NULL AS last,
           coalesce(state, state_before) AS state, coalesce(success_at, success_before) AS last_success,
           coalesce(seen_ok, ok_before, true) AS seen_ok,
           t_before, state_before, success_before, coalesce(ok_before, true) AS ok_before
    FROM (SELECT *, lag(state IGNORE NULLS) OVER w AS state_before, lag(success_at IGNORE NULLS) OVER w AS success_before,
                 lag(seen_ok IGNORE NULLS) OVER w AS ok_before, lag(t) OVER w AS t_before, lead(t) OVER w AS t_after
          FROM events WINDOW w AS (PARTITION BY n ORDER BY seq))
),
met AS (
    -- The first tick each last success does not meet (deadline_severity.sql's k), for the
    -- sources with a deadline alone: an ASOF join of every piece sorted them all, even with no
    -- deadline anywhere (≈ 20 % of this query at 1,000 sources × 90 days). A piece's last
    -- success is one of its source's successes, so they are read from the events, which keeps
    -- ordered read once.
    SELECT s.n, s.success_at AS success, k.tick, k.late_until
    FROM (SELECT DISTINCT n, success_at FROM seen_events SEMI JOIN first_deadline_ticks USING (n)
          WHERE success_at IS NOT NULL) s
    ASOF JOIN deadline_ticks k ON s.n = k.n AND s.success_at <= k.bound
),
aged AS (
    -- When the last success gets too old: past warn_after (t1), then error_after (t2); and
    -- what the deadlines ask at the piece's start (deadline_severity.sql). The same for the
    -- piece before.
    SELECT o.*, {state_severity} AS state_sev,
           last_success + warn AS t1, last_success + error AS t2, {deadline_severity} AS dl,
           {state_severity_before} AS state_sev_before,
           success_before + warn AS t1_before, success_before + error AS t2_before, {deadline_severity_before} AS dl_before
    FROM ordered o
    JOIN (SELECT n, to_seconds(coalesce(warn_s, error_s)) AS warn, to_seconds(error_s) AS error FROM promise) USING (n)
    LEFT JOIN met k ON k.n = o.n AND k.success = o.last_success
    LEFT JOIN met k_before ON k_before.n = o.n AND k_before.success = o.success_before
    LEFT JOIN first_deadline_ticks f ON f.n = o.n
    -- Of several events at the moment of the last collection, only the last holds on.
    WHERE (stop > start OR (start = $cover AND last)) AND stop > $window_start
),
pieces AS (
    -- A piece is fresh until t1, late until t2, overdue after (each part may be empty).
    SELECT *, CASE WHEN seen_ok THEN greatest(state_sev, dl) ELSE {unknown} END AS fresh,
              CASE WHEN seen_ok THEN greatest(state_sev, dl, {degraded}) ELSE {unknown} END AS late,
              CASE WHEN seen_ok THEN {failing} ELSE {unknown} END AS overdue,
              CASE WHEN t1 IS NULL THEN stop ELSE least(stop, greatest(start, t1)) END AS p1,
              CASE WHEN t2 IS NULL THEN stop ELSE least(stop, greatest(start, t2)) END AS p2
    FROM aged
),
opened AS (
    -- Whether the piece's first part goes on in the status the piece before ended in. Judged
    -- only where that piece is the event before's and inside the window; an event at the same
    -- instant as the one before opened a piece that lasts no time, and which piece ended
    -- before it is not at hand: there, as at the window's start, a stretch is taken to begin
    -- and the merge below joins it to the one before when their statuses match. Sorting the
    -- 2.2 M pieces again to find where stretches begin cost ≈ 0.6 s of CPU at 1,000 sources × 90 days.
    SELECT *, t_before < start AND start > $window_start AND first_sev =
              CASE WHEN NOT ok_before THEN {unknown}
                   WHEN t2_before < start THEN {failing}
                   WHEN t1_before < start THEN greatest(state_sev_before, dl_before, {degraded})
                   ELSE greatest(state_sev_before, dl_before) END AS goes_on
    FROM (SELECT *, CASE WHEN p1 > start THEN fresh WHEN p2 > start THEN late ELSE overdue END AS first_sev FROM pieces)
),
begun AS (
    -- Where a stretch may begin: a piece's first part unless it goes on from the piece before,
    -- its late and overdue parts, and what an event at the very moment of the last collection
    -- made the status (it lasts no time on the bars, but it is the status the source has now).
    SELECT n, start, first_sev AS sev FROM opened WHERE stop > start AND NOT coalesce(goes_on, false)
    UNION ALL
    SELECT n, p1, late FROM opened WHERE p2 > p1 AND p1 > start
    UNION ALL
    SELECT n, p2, overdue FROM opened WHERE stop > p2 AND p2 > start
    UNION ALL
    SELECT n, start, {status_at_start} FROM opened WHERE stop = start
),
stretches AS (
    -- Each stretch lasts until the next begins: the pieces from the first event on leave no gap.
    -- Those begun at an uncertain boundary, and the cache's, are joined by the merge below.
    SELECT p.source_id, b.start, b.stop, b.sev
    FROM (SELECT n, start, coalesce(lead(start) OVER (PARTITION BY n ORDER BY start), $cover) AS stop, sev FROM begun) b
    JOIN promise p USING (n)
    UNION ALL
    SELECT * FROM carried_segments WHERE stop > $window_start
),
{merged})
WHERE stop > $window_start
