-- Failed runs per source per local day, among the runs the source timeline read.
SELECT r.source_id, d.day, count(*) FROM finished_runs r JOIN days d ON r.ended_at >= d.day_start AND r.ended_at < d.day_end
WHERE r.state = {failed_state} GROUP BY ALL
