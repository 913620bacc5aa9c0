-- The local days of the window, as naive UTC instants.
CREATE OR REPLACE TEMP TABLE days AS
SELECT unnest($days::DATE[]) AS day, unnest($starts::TIMESTAMP[]) AS day_start, unnest($ends::TIMESTAMP[]) AS day_end
