-- Each key's latest status on the timeline and when that stretch began.
SELECT {key}, arg_max(sev, start), max(start) FROM {table} GROUP BY {key}
