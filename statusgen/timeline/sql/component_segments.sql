-- Each component's status over time: the worst of its sources'. Where some sources have data
-- and others none yet, it is the worst of those with data, so its day on the bars is the worst
-- of its sources' days, and a source added to it leaves its past as it was; but its status at
-- the last collection is then at least unknown: a source not known now keeps it from green.
-- During a declared maintenance window it is maintenance, whatever its sources say.
--
-- The pieces are cut at every start and stop of a member's segment (and of a maintenance
-- window), and a piece's status is the worst severity any member is in there: of each
-- severity, the members whose segment in it started minus those whose segment in it stopped,
-- counted by a running sum over each component's cuts (all severities in one number, see
-- member_count in statusgen.timeline.queries). Joining each piece to each member's segment
-- instead (an ASOF join of ≈ 980,000 piece × member rows at 1,000 sources × 90 days) took
-- twice the CPU, and ≈ 70 MB more at the render's peak RSS.
CREATE OR REPLACE TEMP TABLE component_segments AS
WITH edges AS (
    SELECT m.component_id, s.start AS t, s.sev, 1 AS delta FROM members m JOIN segments s USING (source_id)
    UNION ALL
    SELECT m.component_id, s.stop, s.sev, -1 FROM members m JOIN segments s USING (source_id)
    UNION ALL
    SELECT component_id, start, NULL, 0 FROM maintenance
    UNION ALL
    SELECT component_id, stop, NULL, 0 FROM maintenance
),
cuts AS (
    SELECT component_id, t, sum({member_count}) AS d FROM edges GROUP BY component_id, t
),
counted AS (
    SELECT component_id, t AS start, lead(t) OVER w AS stop, sum(d) OVER w AS n
    FROM cuts WINDOW w AS (PARTITION BY component_id ORDER BY t ROWS UNBOUNDED PRECEDING)
),
latest AS (
    -- Each member's last segment: the one that holds at the last collection, if it reaches it.
    SELECT m.component_id, l.stop, l.sev, max(l.stop) OVER (PARTITION BY m.component_id) AS t
    FROM members m LEFT JOIN (SELECT source_id, arg_max(sev, start) AS sev, max(stop) AS stop FROM segments GROUP BY source_id) l
    USING (source_id)
),
worst_of AS (
    SELECT component_id, start, stop, {worst_counted} AS sev FROM counted
    WHERE stop IS NOT NULL AND n > 0
    UNION ALL
    -- The moment of the last collection, which lasts no time: the status the component has now.
    SELECT component_id, t, t, CASE WHEN count(*) FILTER (WHERE stop = t) < count(*) THEN greatest(max(sev) FILTER (WHERE stop = t), {unknown})
                                     ELSE max(sev) END
    FROM latest WHERE t IS NOT NULL GROUP BY component_id, t HAVING count(*) FILTER (WHERE stop = t) > 0
),
maintained AS (
    SELECT w.component_id, w.start, w.stop,
           CASE WHEN EXISTS (SELECT 1 FROM maintenance m WHERE m.component_id = w.component_id
                             AND m.start <= w.start AND m.stop >= w.stop) THEN {maintenance} ELSE w.sev END AS sev
    FROM worst_of w
),
{merged}
