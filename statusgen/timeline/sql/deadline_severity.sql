-- What a row's deadlines ask at {at}, given its last success {success}: the first tick that
-- success does not meet ({met}, by an ASOF join on the bounds, which only grow; f, the
-- source's first tick, when nothing ever succeeded). Nothing is due until that tick; from
-- it, late until the end of its grace, then failing, whatever later ticks come: a deadline
-- missed for days does not turn late again at the next one. A late landing meets the ticks
-- before it from the moment it lands.
CASE WHEN {success} IS NULL AND (f.tick IS NULL OR {at} < f.tick) THEN {operational}
     WHEN {success} IS NOT NULL AND ({met}.tick IS NULL OR {at} < {met}.tick) THEN {operational}
     WHEN {at} < CASE WHEN {success} IS NULL THEN f.late_until ELSE {met}.late_until END THEN {degraded}
     ELSE {failing} END
