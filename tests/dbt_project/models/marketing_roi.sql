-- Skipped on purpose: it depends on the failing ad_spend_daily.
select a.day, a.spend, r.revenue from {{ ref('ad_spend_daily') }} a join {{ ref('revenue_daily') }} r on r.order_date = a.day
