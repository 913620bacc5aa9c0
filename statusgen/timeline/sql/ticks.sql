-- Each deadline's ticks (see statusgen/deadlines.py): by `tick`, a success must have landed
-- after `bound`; missed, the source is late until `late_until`, failing after.
CREATE OR REPLACE TEMP TABLE ticks AS
SELECT unnest($ids::VARCHAR[]) AS source_id, unnest($ticks::TIMESTAMP[]) AS tick,
       unnest($bounds::TIMESTAMP[]) AS bound, unnest($late_until::TIMESTAMP[]) AS late_until
