-- What a row's deadlines ask at {at}, given its last_success: the first tick that success
-- does not meet (k, by an ASOF join on the bounds, which only grow; f, the source's first
-- tick, when nothing ever succeeded). Nothing is due until that tick; from it, late until
-- the end of its grace, then failing, whatever later ticks come: a deadline missed for days
-- does not turn late again at the next one. A late landing meets the ticks before it from
-- the moment it lands.
CASE WHEN last_success IS NULL AND (f.tick IS NULL OR {at} < f.tick) THEN {operational}
     WHEN last_success IS NOT NULL AND (k.tick IS NULL OR {at} < k.tick) THEN {operational}
     WHEN {at} < CASE WHEN last_success IS NULL THEN f.late_until ELSE k.late_until END THEN {degraded}
     ELSE {failing} END
