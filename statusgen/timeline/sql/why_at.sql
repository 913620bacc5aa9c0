-- Each source's parts of the rule at $cover (judged_at.sql), so the page can say in words
-- which of them made its status.
SELECT source_id, seen_ok, state, state_sev, {age_severity_at_cover}, dl, last_success, due_tick
FROM ({judged_at})
