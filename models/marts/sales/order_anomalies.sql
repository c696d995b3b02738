with

orders as (
    select
        document_key,
        source_system,
        order_id,
        customer_id,
        ordered_at,
        order_date,
        net_amount
    from {{ ref('int_sales_orders_aggregated') }}
    where
        kept_line_count > 0
        and not is_return
),

{{ anomaly_scored_ctes('orders', 'net_amount', 'order_date') }},

final as (
    select
        document_key,
        source_system,
        order_id,
        customer_id,
        ordered_at,
        order_date,
        cast(net_amount as numeric(18, 3)) as net_amount,
        {{ anomaly_columns() }}
    from anomaly_scored
)

select * from final
