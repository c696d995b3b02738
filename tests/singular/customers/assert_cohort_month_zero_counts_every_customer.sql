-- Per source, counted independently from sales_lines:
--   * the cohort sizes add up to the customers with an order (a kept line
--     that is not a return) before as_of_date;
--   * the month-0 active customers of the observable cohorts add up to those
--     of them whose first order's month ended before as_of_date (the partial
--     as-of month's cohort has NULL measures);
--   * monthly_kpis' new customers add up to every customer with an order.
-- Returns the checks that fail.
with

lines as (
    select * from {{ ref('sales_lines') }}
    where
        has_customer
        and not is_return
),

as_of_dates as (
    select * from {{ ref('int_sales_as_of_dates_derived') }}
),

cohort_retention as (
    select * from {{ ref('cohort_retention') }}
    where months_since_first_purchase = 0
),

monthly_kpis as (
    select * from {{ ref('monthly_kpis') }}
),

first_orders as (
    select
        source_system,
        customer_id,
        min(order_date) as first_order_date
    from lines
    group by source_system, customer_id
),

expected as (
    select
        first_orders.source_system,
        count(*) filter (
            where first_orders.first_order_date < as_of_dates.as_of_date
        ) as customers_before_as_of,
        count(*) filter (
            where first_orders.first_order_date
            < cast({{ dbt.dateadd('month', 1, 'as_of_dates.last_observable_month') }} as date)
        ) as customers_in_observable_cohorts,
        count(*) as customers
    from first_orders
    inner join as_of_dates
        on first_orders.source_system = as_of_dates.source_system
    group by first_orders.source_system
),

cohorts as (
    select
        source_system,
        sum(cohort_size) as cohort_sizes,
        coalesce(sum(active_customers) filter (where is_observable), 0) as month_zero_active
    from cohort_retention
    group by source_system
),

kpis as (
    select
        source_system,
        sum(new_customers) as new_customers
    from monthly_kpis
    group by source_system
),

compared as (
    select
        expected.source_system,
        expected.customers_before_as_of,
        expected.customers_in_observable_cohorts,
        expected.customers,
        coalesce(cohorts.cohort_sizes, 0) as cohort_sizes,
        coalesce(cohorts.month_zero_active, 0) as month_zero_active,
        kpis.new_customers
    from expected
    left join cohorts
        on expected.source_system = cohorts.source_system
    left join kpis
        on expected.source_system = kpis.source_system
),

checks as (
    select
        source_system,
        'cohort sizes = customers before as_of_date' as check_name,
        customers_before_as_of as expected_value,
        cohort_sizes as actual_value
    from compared
    union all
    select
        source_system,
        'month-0 active customers = customers of observable cohorts' as check_name,
        customers_in_observable_cohorts as expected_value,
        month_zero_active as actual_value
    from compared
    union all
    select
        source_system,
        'monthly_kpis new customers = customers' as check_name,
        customers as expected_value,
        new_customers as actual_value
    from compared
),

final as (
    select * from checks
    where actual_value is distinct from expected_value
)

select * from final
