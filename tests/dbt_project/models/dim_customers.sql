select c.id as customer_id, c.email, count(o.order_id) as orders
from {{ source('raw', 'customers') }} c left join {{ ref('fct_orders') }} o on o.customer_id = c.id
group by all
