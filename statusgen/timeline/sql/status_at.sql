-- The status rule at the instant {at}, from a row's seen_ok (whether the source was
-- reachable), state_sev (the latest finished run's severity), age_sev (age_severity.sql)
-- and dl (deadline_severity.sql): reachable, the worst of the three wins.
CASE WHEN NOT seen_ok THEN {unknown} ELSE greatest(state_sev, {age_severity}, dl) END
