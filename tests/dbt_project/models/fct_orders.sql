select order_id, customer_id, amount, cast(loaded_at as date) as order_date from {{ ref('stg_orders') }}
