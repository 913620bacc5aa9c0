-- What a row's freshness ages ask at {at}: degraded once its last success is older than
-- warn_after (t1), failing once older than error_after (t2).
CASE WHEN t1 IS NULL OR {at} <= t1 THEN {operational}
     WHEN t2 IS NULL OR {at} <= t2 THEN {degraded}
     ELSE {failing} END
