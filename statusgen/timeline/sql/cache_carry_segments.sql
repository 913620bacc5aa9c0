INSERT INTO carried_segments SELECT source_id, start, stop, sev FROM cached
WHERE start IS NOT NULL AND source_id IN (SELECT source_id FROM carried)
