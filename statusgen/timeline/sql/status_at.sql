-- The status rule at the instant {at}, from a row's state_sev (the latest finished run's
-- severity), seen_ok (whether the source was reachable) and the instants its last success
-- grows too old: past warn_after (t1), then past error_after (t2).
CASE WHEN NOT seen_ok THEN {unknown}
     WHEN t1 IS NULL OR {at} <= t1 THEN state_sev
     WHEN t2 IS NULL OR {at} <= t2 THEN greatest(state_sev, {degraded})
     ELSE {failing} END
