select id as order_id, customer_id, amount, loaded_at from {{ source('raw', 'orders') }}
