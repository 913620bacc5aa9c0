-- Microseconds in each status within the window for every key of {table}: whole numbers, so
-- that only the percentage is ever rounded.
SELECT {key}, sev, sum(epoch_us(least(stop, $window_end)) - epoch_us(greatest(start, $window_start)))::BIGINT
FROM {table} WHERE stop > start AND stop > $window_start AND start < $window_end
GROUP BY ALL
