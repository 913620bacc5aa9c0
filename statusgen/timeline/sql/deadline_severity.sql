-- What a row's latest deadline (k.tick, k.bound, k.late_until) asks at {at}, given the
-- row's last_success: nothing before any tick, or once a success landed after the bound (any
-- success, for a first tick with none before it; a late landing meets it from the moment it
-- lands); else late, then failing.
CASE WHEN k.tick IS NULL OR last_success > k.bound OR (k.bound IS NULL AND last_success IS NOT NULL) THEN {operational}
     WHEN {at} < k.late_until THEN {degraded}
     ELSE {failing} END
