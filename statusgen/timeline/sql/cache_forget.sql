-- A damaged cache is no cache.
DELETE FROM carried
