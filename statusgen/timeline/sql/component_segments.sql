-- Each component's status over time: the worst of its sources'. Where some sources have data
-- and others none yet, it is the worst of those with data, so its day on the bars is the worst
-- of its sources' days, and a source added to it leaves its past as it was; but its status at
-- the last collection is then at least unknown: a source not known now keeps it from green.
-- During a declared maintenance window it is maintenance, whatever its sources say.
CREATE OR REPLACE TEMP TABLE component_segments AS
WITH bounds AS (
    SELECT DISTINCT m.component_id, b.t
    FROM members m JOIN (SELECT source_id, start AS t FROM segments
                         UNION ALL SELECT source_id, stop FROM segments) b USING (source_id)
    UNION SELECT component_id, start FROM maintenance
    UNION SELECT component_id, stop FROM maintenance
),
pieces AS (
    SELECT component_id, t AS start, lead(t) OVER (PARTITION BY component_id ORDER BY t) AS stop FROM bounds
    UNION ALL
    -- The moment of the last collection, which lasts no time: the status the component has now.
    SELECT m.component_id, max(s.stop), max(s.stop) FROM members m JOIN segments s USING (source_id) GROUP BY ALL
),
per_source AS (
    SELECT p.component_id, p.start, p.stop, m.source_id FROM pieces p JOIN members m USING (component_id)
    WHERE p.stop IS NOT NULL
),
hits AS (
    SELECT ps.component_id, ps.start, ps.stop,
           CASE WHEN s.stop > ps.start OR (ps.stop = ps.start AND s.stop = ps.start) THEN s.sev END AS sev
    FROM per_source ps ASOF LEFT JOIN segments s ON ps.source_id = s.source_id AND ps.start >= s.start
),
worst_of AS (
    SELECT component_id, start, stop,
           CASE WHEN count(sev) < count(*) AND start = stop THEN greatest(max(sev), {unknown}) ELSE max(sev) END AS sev
    FROM hits GROUP BY component_id, start, stop HAVING count(sev) > 0
),
maintained AS (
    SELECT w.component_id, w.start, w.stop,
           CASE WHEN EXISTS (SELECT 1 FROM maintenance m WHERE m.component_id = w.component_id
                             AND m.start <= w.start AND m.stop >= w.stop) THEN {maintenance} ELSE w.sev END AS sev
    FROM worst_of w
),
{merged}
