-- Failed runs per source per local day, among the runs the source timeline read. Days do not
-- overlap: each run's is the last to start at or before its end (an ASOF join; as a range
-- join it weighed every failed run against every day).
SELECT r.source_id, d.day, count(*)
FROM (SELECT source_id, ended_at FROM finished_runs WHERE state = {failed_state}) r
ASOF JOIN days d ON r.ended_at >= d.day_start
WHERE r.ended_at < d.day_end GROUP BY ALL
