SELECT source_id FROM carried ORDER BY source_id
