with

orders as (
    select * from {{ ref('int_sales_orders_aggregated') }}
    where
        kept_line_count > 0
        and has_customer
),

as_of_dates as (
    select * from {{ ref('int_sales_as_of_dates_derived') }}
),

final as (
    select
        orders.document_key,
        orders.source_system,
        orders.customer_id,
        orders.order_date,
        orders.order_month,
        orders.net_amount,
        orders.is_return,
        as_of_dates.as_of_date
    from orders
    inner join as_of_dates
        on orders.source_system = as_of_dates.source_system
)

select * from final
