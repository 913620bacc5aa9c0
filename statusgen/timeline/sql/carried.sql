-- Each source's state at the cache's cutoff, for the sources whose cached entry still holds.
CREATE OR REPLACE TEMP TABLE carried (source_id VARCHAR, state {state_type}, last_success TIMESTAMP, seen_ok BOOLEAN)
