"""Raw tables whose load times give one fresh, one warn and one stale dbt source."""

import sys
from datetime import datetime, timedelta, timezone

import duckdb

now = datetime.now(timezone.utc).replace(tzinfo=None)
con = duckdb.connect(sys.argv[1])
con.execute("create schema if not exists raw")
con.execute("create or replace table raw.orders (id int, customer_id int, amount decimal(10,2), loaded_at timestamp)")
con.execute("insert into raw.orders values (1, 1, 30.00, ?), (2, 2, 12.50, ?), (3, 1, 7.25, ?)",
            [now - timedelta(hours=3), now - timedelta(hours=2), now - timedelta(hours=1)])
con.execute("create or replace table raw.customers (id int, email varchar, loaded_at timestamp)")
con.execute("insert into raw.customers values (1, 'ada@example.com', ?), (2, null, ?)",
            [now - timedelta(hours=30), now - timedelta(hours=30)])
con.execute("create or replace table raw.ad_spend (day date, spend decimal(10,2), loaded_at timestamp)")
con.execute("insert into raw.ad_spend values (?, 100.00, ?)", [(now - timedelta(days=5)).date(), now - timedelta(days=5)])
con.close()
