-- Each source's status at $cover alone (judged_at.sql): what its timeline's last segment says.
SELECT source_id, {status_at_cover} FROM ({judged_at})
