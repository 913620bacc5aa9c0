-- The merged segments before the cache's cutoff of the sources in `carried`.
CREATE OR REPLACE TEMP TABLE carried_segments (source_id VARCHAR, start TIMESTAMP, stop TIMESTAMP, sev INTEGER)
