-- Per source, the clusters' shares of customers and of revenue add up to 1
-- (each share is rounded to 6 decimals, hence the tolerance of 1e-5 for k <= 8).
with

summary as (
    select * from {{ ref('rfm_cluster_summary') }}
),

totals as (
    select
        source_system,
        sum(share_of_customers) as customer_share_total,
        sum(share_of_revenue) as revenue_share_total
    from summary
    group by source_system
)

select * from totals
where
    abs(customer_share_total - 1) > 1e-5
    or abs(coalesce(revenue_share_total, 1) - 1) > 1e-5
