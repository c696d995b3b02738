with

orders as (
    select * from {{ ref('int_sales_orders_aggregated') }}
    where kept_line_count > 0
),

daily_revenue as (
    select
        source_system,
        order_date,
        sum(net_amount) as revenue,
        count(*) as documents
    from orders
    group by source_system, order_date
),

{{ anomaly_scored_ctes('daily_revenue', 'revenue', 'order_date') }},

final as (
    select
        source_system,
        order_date,
        cast(revenue as numeric(18, 3)) as revenue,
        documents,
        {{ anomaly_columns() }}
    from anomaly_scored
)

select * from final
