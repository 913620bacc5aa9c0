-- Every stretch of one status of every key of {table}, in time order.
SELECT {key}, start, stop, sev FROM {table} ORDER BY {key}, start, stop
