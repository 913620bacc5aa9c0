-- Which sources each component depends on.
CREATE OR REPLACE TEMP TABLE members AS
SELECT unnest($components::VARCHAR[]) AS component_id, unnest($sources::VARCHAR[]) AS source_id
