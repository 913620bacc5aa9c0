-- Declared maintenance windows per component.
CREATE OR REPLACE TEMP TABLE maintenance AS
SELECT unnest($components::VARCHAR[]) AS component_id, unnest($starts::TIMESTAMP[]) AS start, unnest($stops::TIMESTAMP[]) AS stop
