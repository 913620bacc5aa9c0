-- Fails on purpose: the column does not exist, so run_results.json holds a real error.
select day, sum(spend_eur) as spend from {{ source('raw', 'ad_spend') }} group by all
