with

customer_months as (
    select * from {{ ref('int_customer_months_aggregated') }}
),

as_of_dates as (
    select * from {{ ref('int_sales_as_of_dates_derived') }}
),

cohort_customer_months as (
    -- the months from the first purchase on of customers who bought before the as-of date
    select customer_months.*
    from customer_months
    inner join as_of_dates
        on customer_months.source_system = as_of_dates.source_system
    where
        customer_months.first_purchase_date < as_of_dates.as_of_date
        and customer_months.order_month >= customer_months.first_purchase_month
),

cohorts as (
    select
        source_system,
        first_purchase_month as cohort_month,
        count(distinct customer_id) as cohort_size
    from cohort_customer_months
    group by source_system, first_purchase_month
),

cohort_activity as (
    select
        source_system,
        first_purchase_month as cohort_month,
        order_month as month_start,
        count(*) filter (where is_purchase_month) as active_customers,
        sum(net_amount) as revenue
    from cohort_customer_months
    group by source_system, first_purchase_month, order_month
),

cohort_spans as (
    select
        cohorts.source_system,
        cohorts.cohort_month,
        cohorts.cohort_size,
        as_of_dates.last_observable_month,
        cast(
            {{ dbt.datediff('cohorts.cohort_month', 'as_of_dates.as_of_month', 'month') }} as integer
        ) as months_to_as_of_month
    from cohorts
    inner join as_of_dates
        on cohorts.source_system = as_of_dates.source_system
),

grid as (
    select
        cohort_spans.source_system,
        cohort_spans.cohort_month,
        cohort_spans.cohort_size,
        month_offsets.months_since_first_purchase,
        cast(
            {{ dbt.dateadd('month', 'month_offsets.months_since_first_purchase', 'cohort_spans.cohort_month') }} as date
        ) as month_start,
        cohort_spans.last_observable_month
    from cohort_spans
    {{ series_join(0, 'cohort_spans.months_to_as_of_month', 'month_offsets', 'months_since_first_purchase') }}
),

final as (
    select
        grid.source_system,
        grid.cohort_month,
        grid.months_since_first_purchase,
        grid.month_start,
        grid.month_start <= grid.last_observable_month as is_observable,
        grid.cohort_size,
        case
            when grid.month_start <= grid.last_observable_month
                then coalesce(cohort_activity.active_customers, 0)
        end as active_customers,
        case
            when grid.month_start <= grid.last_observable_month
                then cast(
                    coalesce(cohort_activity.active_customers, 0) / {{ count_as_number('grid.cohort_size') }}
                    as numeric(9, 6)
                )
        end as retention_rate,
        case
            when grid.month_start <= grid.last_observable_month
                then cast(coalesce(cohort_activity.revenue, 0) as numeric(18, 3))
        end as revenue
    from grid
    left join cohort_activity
        on
            grid.source_system = cohort_activity.source_system
            and grid.cohort_month = cohort_activity.cohort_month
            and grid.month_start = cohort_activity.month_start
)

select * from final
