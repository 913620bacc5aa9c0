-- Only the collections where reachability changed matter.
CREATE OR REPLACE TEMP TABLE changes AS SELECT source_id, collected_at AS t, ok FROM ({reachability_changes})
