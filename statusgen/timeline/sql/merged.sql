-- The tail of a query turning {table}'s touching pieces with one status into one segment,
-- so the last segment of each key tells since when its status has held. Only the first and
-- last piece of each stretch survive the first pass, which keeps the second one small.
marked AS (
    SELECT *, coalesce(sev = lag(sev) OVER w AND start = lag(stop) OVER w, false) AS continues,
              coalesce(sev = lead(sev) OVER w AND stop = lead(start) OVER w, false) AS continued
    FROM {table} WINDOW w AS (PARTITION BY {key} ORDER BY start)
),
ends AS (SELECT * FROM marked WHERE NOT (continues AND continued))
SELECT {key}, start, CASE WHEN continued THEN lead(stop) OVER (PARTITION BY {key} ORDER BY start) ELSE stop END AS stop, sev
FROM ends QUALIFY NOT continues
