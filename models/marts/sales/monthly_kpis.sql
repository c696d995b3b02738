with

orders as (
    select * from {{ ref('int_sales_orders_aggregated') }}
    where kept_line_count > 0
),

customer_months as (
    select * from {{ ref('int_customer_months_aggregated') }}
),

as_of_dates as (
    select * from {{ ref('int_sales_as_of_dates_derived') }}
),

month_spans as (
    select
        source_system,
        min(order_month) as first_month,
        cast({{ dbt.datediff('min(order_month)', 'max(order_month)', 'month') }} as integer) as month_count
    from orders
    group by source_system
),

months as (
    select
        month_spans.source_system,
        cast({{ dbt.dateadd('month', 'month_offsets.month_offset', 'month_spans.first_month') }} as date) as month_start
    from month_spans
    {{ series_join(0, 'month_spans.month_count', 'month_offsets', 'month_offset') }}
),

monthly_documents as (
    select
        source_system,
        order_month as month_start,
        sum(net_amount) as revenue,
        coalesce(sum(net_amount) filter (where not is_return), 0) as gross_sales,
        coalesce(-sum(net_amount) filter (where is_return), 0) as returns_amount,
        count(*) filter (where not is_return) as orders,
        sum(units) as units,
        coalesce(sum(net_amount) filter (where not has_customer), 0) as guest_revenue
    from orders
    group by source_system, order_month
),

monthly_customers as (
    select
        source_system,
        order_month as month_start,
        count(*) as active_customers,
        count(*) filter (where is_purchase_month) as customers,
        sum(net_amount) as customer_revenue,
        coalesce(sum(net_amount) filter (where is_purchase_month), 0) as buyer_revenue,
        count(*) filter (where purchase_count > 1) as repeat_customers,
        count(*) filter (where order_month = first_purchase_month) as new_customers
    from customer_months
    group by source_system, order_month
),

repurchases as (
    -- buyers of the month who also bought in the previous calendar month
    select
        this_month.source_system,
        this_month.order_month as month_start,
        count(*) as retained_customers
    from customer_months as this_month
    inner join customer_months as last_month
        on
            this_month.source_system = last_month.source_system
            and this_month.customer_id = last_month.customer_id
            and last_month.order_month = cast({{ dbt.dateadd('month', -1, 'this_month.order_month') }} as date)
    where
        this_month.is_purchase_month
        and last_month.is_purchase_month
    group by this_month.source_system, this_month.order_month
),

joined as (
    select
        months.source_system,
        months.month_start,
        cast({{ dbt.dateadd('month', 1, 'months.month_start') }} as date)
        <= as_of_dates.as_of_date as is_complete_month,
        coalesce(monthly_documents.revenue, 0) as revenue,
        coalesce(monthly_documents.gross_sales, 0) as gross_sales,
        coalesce(monthly_documents.returns_amount, 0) as returns_amount,
        coalesce(monthly_documents.orders, 0) as orders,
        coalesce(monthly_documents.units, 0) as units,
        coalesce(monthly_documents.guest_revenue, 0) as guest_revenue,
        coalesce(monthly_customers.active_customers, 0) as active_customers,
        coalesce(monthly_customers.customers, 0) as customers,
        coalesce(monthly_customers.customer_revenue, 0) as customer_revenue,
        coalesce(monthly_customers.buyer_revenue, 0) as buyer_revenue,
        coalesce(monthly_customers.repeat_customers, 0) as repeat_customers,
        coalesce(monthly_customers.new_customers, 0) as new_customers,
        coalesce(repurchases.retained_customers, 0) as retained_customers
    from months
    inner join as_of_dates
        on months.source_system = as_of_dates.source_system
    left join monthly_documents
        on
            months.source_system = monthly_documents.source_system
            and months.month_start = monthly_documents.month_start
    left join monthly_customers
        on
            months.source_system = monthly_customers.source_system
            and months.month_start = monthly_customers.month_start
    left join repurchases
        on
            months.source_system = repurchases.source_system
            and months.month_start = repurchases.month_start
),

with_previous as (
    select
        *,
        lag(customers) over (partition by source_system order by month_start) as previous_month_customers
    from joined
),

final as (
    select
        source_system,
        month_start,
        is_complete_month,
        cast(revenue as numeric(18, 3)) as revenue,
        cast(gross_sales as numeric(18, 3)) as gross_sales,
        cast(returns_amount as numeric(18, 3)) as returns_amount,
        orders,
        customers,
        active_customers,
        new_customers,
        cast(units as numeric(15, 3)) as units,
        cast(revenue / nullif(orders, 0) as numeric(18, 2)) as aov,
        cast(customer_revenue / nullif(active_customers, 0) as numeric(18, 2)) as arpu,
        cast(buyer_revenue / nullif(customers, 0) as numeric(18, 2)) as arppu,
        cast(repeat_customers / {{ count_as_number('nullif(customers, 0)') }} as numeric(9, 6)) as repeat_purchase_rate,
        cast(
            retained_customers / {{ count_as_number('nullif(previous_month_customers, 0)') }} as numeric(9, 6)
        ) as return_purchase_rate,
        cast(guest_revenue / nullif(revenue, 0) as numeric(9, 6)) as guest_revenue_share
    from with_previous
)

select * from final
