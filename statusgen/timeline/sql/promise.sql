-- Each source's freshness promise, in seconds (NULL: no limit).
CREATE OR REPLACE TEMP TABLE promise AS
SELECT unnest($ids::VARCHAR[]) AS source_id, unnest($warn::BIGINT[]) AS warn_s, unnest($error::BIGINT[]) AS error_s
