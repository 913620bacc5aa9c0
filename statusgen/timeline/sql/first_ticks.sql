-- Each source's first tick read: the one a source that never succeeded misses first.
CREATE OR REPLACE TEMP TABLE first_ticks AS
SELECT source_id, min(tick) AS tick, arg_min(late_until, tick) AS late_until FROM ticks GROUP BY source_id
