-- The status rule at the instant {at}, from a row's state_sev (the latest finished run's
-- severity), seen_ok (whether the source was reachable), the instants its last success
-- grows too old: past warn_after (t1), then past error_after (t2), and dl (what its latest
-- deadline asks at that instant). With an age and a deadline, the worse wins.
CASE WHEN NOT seen_ok THEN {unknown}
     WHEN t1 IS NULL OR {at} <= t1 THEN greatest(state_sev, dl)
     WHEN t2 IS NULL OR {at} <= t2 THEN greatest(state_sev, dl, {degraded})
     ELSE {failing} END
