-- One row per customer of each source, from the kept documents with a
-- customer dated before the source's as_of_date: purchases (non-return
-- documents) give the first and last purchase dates and the frequency;
-- monetary is the net revenue of all those documents, returns included.
-- Customers with returns only (purchases before the data starts) keep a row
-- with frequency 0, so that the revenue reconciles here.
with

orders as (
    select * from {{ ref('int_sales_orders_aggregated') }}
),

as_of_dates as (
    select * from {{ ref('int_sales_as_of_dates') }}
),

customer_orders as (
    select
        orders.source_system,
        orders.customer_id,
        orders.order_date,
        orders.net_amount,
        orders.is_return,
        as_of_dates.as_of_date
    from orders
    inner join as_of_dates
        on orders.source_system = as_of_dates.source_system
    where
        orders.kept_line_count > 0
        and orders.has_customer
        and orders.order_date < as_of_dates.as_of_date
),

aggregated as (
    -- one input row per document, so count(*) counts distinct documents
    select
        source_system,
        customer_id,
        as_of_date,
        min(order_date) filter (where not is_return) as first_purchase_date,
        max(order_date) filter (where not is_return) as last_purchase_date,
        count(*) filter (where not is_return) as frequency,
        sum(net_amount) as monetary,
        coalesce(sum(net_amount) filter (where not is_return), 0) as purchase_amount,
        count(*) filter (where is_return) as return_count,
        coalesce(sum(net_amount) filter (where is_return), 0) as return_amount
    from customer_orders
    group by source_system, customer_id, as_of_date
),

final as (
    select
        source_system,
        customer_id,
        as_of_date,
        frequency > 0 as has_purchase,
        first_purchase_date,
        last_purchase_date,
        frequency,
        monetary,
        purchase_amount,
        return_count,
        return_amount
    from aggregated
)

select * from final
