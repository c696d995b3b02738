with

customer_months as (
    select * from {{ ref('int_customer_months_aggregated') }}
),

as_of_dates as (
    select * from {{ ref('int_sales_as_of_dates_derived') }}
),

customers as (
    select distinct
        customer_months.source_system,
        customer_months.customer_id,
        customer_months.first_purchase_month,
        as_of_dates.last_observable_month,
        cast(
            {{ dbt.datediff('customer_months.first_purchase_month', 'as_of_dates.as_of_month', 'month') }}
            as integer
        ) as months_to_as_of_month
    from customer_months
    inner join as_of_dates
        on customer_months.source_system = as_of_dates.source_system
    where customer_months.first_purchase_date < as_of_dates.as_of_date
),

customer_grid as (
    select
        customers.source_system,
        customers.customer_id,
        customers.first_purchase_month,
        customers.last_observable_month,
        month_offsets.months_since_first_purchase,
        cast(
            {{ dbt.dateadd('month', 'month_offsets.months_since_first_purchase', 'customers.first_purchase_month') }}
            as date
        ) as month_start
    from customers
    cross join
        lateral generate_series(0, customers.months_to_as_of_month) as month_offsets (months_since_first_purchase)
),

purchases as (
    select
        customer_grid.source_system,
        customer_grid.customer_id,
        customer_grid.first_purchase_month,
        customer_grid.months_since_first_purchase,
        customer_grid.month_start,
        customer_grid.month_start <= customer_grid.last_observable_month as is_observable,
        coalesce(customer_months.is_purchase_month, false) as has_purchase
    from customer_grid
    left join customer_months
        on
            customer_grid.source_system = customer_months.source_system
            and customer_grid.customer_id = customer_months.customer_id
            and customer_grid.month_start = customer_months.order_month
),

previous_purchases as (
    select
        *,
        lag(has_purchase) over (
            partition by source_system, customer_id
            order by month_start
        ) as had_purchase_last_month
    from purchases
),

final as (
    select
        source_system,
        customer_id,
        month_start,
        first_purchase_month,
        months_since_first_purchase,
        is_observable,
        case when is_observable then has_purchase end as has_purchase,
        case
            when not is_observable then null
            when months_since_first_purchase = 0 then 'new'
            when has_purchase and had_purchase_last_month then 'active'
            when has_purchase then 'returning'
            else 'inactive'
        end as lifecycle_state
    from previous_purchases
)

select * from final
