-- Seconds per status per local day for every key of {table}.
SELECT t.{key}, d.day, t.sev,
       sum(epoch(least(t.stop, d.day_end) - greatest(t.start, d.day_start)))::BIGINT AS seconds
FROM {table} t JOIN days d ON t.start < d.day_end AND t.stop > d.day_start
WHERE t.stop > t.start
GROUP BY ALL
