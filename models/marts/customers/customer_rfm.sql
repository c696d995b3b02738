with

customer_orders as (
    select * from {{ ref('int_customer_orders_aggregated') }}
    where has_purchase
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

sources as (
    select * from {{ ref('sales_sources') }}
),

rfm_values as (
    select
        customer_orders.source_system,
        customer_orders.customer_id,
        sources.currency_code,
        customer_orders.as_of_date,
        customer_orders.first_purchase_date,
        customer_orders.last_purchase_date,
        cast(customer_orders.frequency as integer) as frequency,
        customer_orders.monetary,
        cast(customer_orders.return_count as integer) as return_count,
        customer_orders.return_amount
    from customer_orders
    left join sources
        on customer_orders.source_system = sources.source_system
),

{{ rfm_segmented_ctes('rfm_values') }},

final as (
    select
        source_system,
        customer_id,
        currency_code,
        as_of_date,
        return_count,
        cast(return_amount as numeric(18, 3)) as return_amount,
        {{ rfm_columns() }}
    from rfm_segmented
)

select * from final
