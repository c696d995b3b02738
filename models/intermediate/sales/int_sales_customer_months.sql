-- One row per source × customer × calendar month in which the customer has at
-- least one kept document (an order or a return). A purchase is a kept
-- document that is not a return; the first purchase fixes the customer's
-- cohort. Customers who only ever returned goods are here (their returns count
-- as activity) with a NULL first purchase. Guests (documents without a
-- customer) are not here.
with

orders as (
    select * from {{ ref('int_sales_orders_aggregated') }}
    where
        kept_line_count > 0
        and has_customer
),

customer_months as (
    select
        source_system,
        customer_id,
        order_month as month_start,
        count(*) as documents,
        count(*) filter (where not is_return) as orders,
        sum(net_amount) as net_amount,
        min(order_date) filter (where not is_return) as first_order_date_in_month
    from orders
    group by source_system, customer_id, order_month
),

first_purchases as (
    select
        source_system,
        customer_id,
        min(first_order_date_in_month) as first_purchase_date
    from customer_months
    group by source_system, customer_id
),

final as (
    select
        customer_months.source_system,
        customer_months.customer_id,
        customer_months.month_start,
        customer_months.documents,
        customer_months.orders,
        customer_months.orders > 0 as is_purchase_month,
        customer_months.net_amount,
        first_purchases.first_purchase_date,
        cast(
            {{ dbt.date_trunc('month', 'first_purchases.first_purchase_date') }} as date
        ) as first_purchase_month
    from customer_months
    inner join first_purchases
        on
            customer_months.source_system = first_purchases.source_system
            and customer_months.customer_id = first_purchases.customer_id
)

select * from final
