-- Whether the cache held for every source.
SELECT count(*) = (SELECT count(*) FROM carried) FROM promise
