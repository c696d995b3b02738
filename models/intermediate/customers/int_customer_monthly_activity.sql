-- One row per customer and calendar month with kept documents: purchases and
-- net revenue (returns included) of the month. The segment history adds
-- these up to each as-of date instead of rereading documents.
with

orders as (
    select * from {{ ref('int_sales_orders_aggregated') }}
),

customer_orders as (
    select
        source_system,
        customer_id,
        order_month,
        order_date,
        net_amount,
        is_return
    from orders
    where
        kept_line_count > 0
        and has_customer
),

final as (
    -- one input row per document, so count(*) counts distinct documents
    select
        source_system,
        customer_id,
        order_month,
        count(*) filter (where not is_return) as purchase_count,
        min(order_date) filter (where not is_return) as first_purchase_date,
        max(order_date) filter (where not is_return) as last_purchase_date,
        sum(net_amount) as net_amount,
        count(*) filter (where is_return) as return_count
    from customer_orders
    group by source_system, customer_id, order_month
)

select * from final
