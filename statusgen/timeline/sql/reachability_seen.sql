SELECT * FROM reachability WHERE collected_at <= $cover AND source_id IN (SELECT source_id FROM promise)
