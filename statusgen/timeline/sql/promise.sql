-- Each source's promise: ages in seconds (NULL: no limit), its deadline's key (NULL: none;
-- its ticks are in the table `ticks`), and the fewest rows a success must report (NULL: any).
CREATE OR REPLACE TEMP TABLE promise AS
SELECT unnest($ids::VARCHAR[]) AS source_id, unnest($warn::BIGINT[]) AS warn_s, unnest($error::BIGINT[]) AS error_s,
       unnest($deadline::VARCHAR[]) AS deadline, unnest($min_rows::BIGINT[]) AS min_rows
