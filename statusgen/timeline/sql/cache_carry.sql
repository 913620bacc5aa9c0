-- The cached states at the cutoff whose fingerprint still matches.
INSERT INTO carried SELECT c.source_id, c.state, c.last_success, c.seen_ok FROM cached c
JOIN fingerprint f ON c.source_id = f.source_id AND c.fingerprint = f.fingerprint WHERE c.start IS NULL
