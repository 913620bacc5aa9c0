-- Failed runs per source per local day, among the runs the source timeline read. The days
-- follow each other without gaps: each run's is the last to start at or before its end (an
-- ASOF join; as a range join it weighed every failed run against every day), once runs after
-- the last day are left out (a filter beside an ASOF join's inequality is one DuckDB 1.1
-- refuses to bind).
SELECT r.source_id, d.day, count(*)
FROM (SELECT source_id, ended_at FROM finished_runs
      WHERE state = {failed_state} AND ended_at < (SELECT max(day_end) FROM days)) r
ASOF JOIN days d ON r.ended_at >= d.day_start
GROUP BY ALL
