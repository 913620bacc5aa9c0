-- Each source's freshness promise: ages in seconds (NULL: no limit), and its deadline's key
-- (NULL: none; its ticks are in the table `ticks`).
CREATE OR REPLACE TEMP TABLE promise AS
SELECT unnest($ids::VARCHAR[]) AS source_id, unnest($warn::BIGINT[]) AS warn_s, unnest($error::BIGINT[]) AS error_s,
       unnest($deadline::VARCHAR[]) AS deadline
