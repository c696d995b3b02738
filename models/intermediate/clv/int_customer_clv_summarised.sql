{#-
    The BG/NBD calibration summary per customer, twice: as of the source's
    as_of_date (the forecast) and as of its holdout_as_of_date (the holdout
    check), with the purchase days that happened after the latter.
-#}
{{ config(materialized='table') }}

with

purchase_days as (
    select * from {{ ref('int_customer_purchase_days_aggregated') }}
),

periods as (
    select * from {{ ref('int_clv_calibration_periods_derived') }}
),

firsts as (
    select
        source_system,
        customer_id,
        min(order_date) as first_purchase_date
    from purchase_days
    where has_purchase
    group by source_system, customer_id
),

days_with_periods as (
    select
        purchase_days.source_system,
        purchase_days.customer_id,
        purchase_days.order_date,
        purchase_days.has_purchase,
        purchase_days.purchase_amount,
        purchase_days.return_amount,
        firsts.first_purchase_date,
        periods.as_of_date,
        periods.observed_through_date,
        periods.holdout_as_of_date
    from purchase_days
    inner join firsts
        on
            purchase_days.source_system = firsts.source_system
            and purchase_days.customer_id = firsts.customer_id
    inner join periods
        on purchase_days.source_system = periods.source_system
),

summarised as (
    select
        source_system,
        customer_id,
        as_of_date,
        observed_through_date,
        holdout_as_of_date,
        first_purchase_date,
        max(order_date) filter (where has_purchase) as last_purchase_date,
        count(*) filter (where has_purchase) - 1 as repeat_purchases,
        coalesce(sum(purchase_amount) filter (where order_date > first_purchase_date), 0)
        + sum(return_amount) as repeat_net_amount,
        max(order_date) filter (where has_purchase and order_date < holdout_as_of_date) as holdout_last_purchase_date,
        count(*) filter (where has_purchase and order_date < holdout_as_of_date) - 1 as holdout_repeat_purchases,
        coalesce(
            sum(purchase_amount) filter (
                where order_date > first_purchase_date and order_date < holdout_as_of_date
            ),
            0
        )
        + coalesce(sum(return_amount) filter (where order_date < holdout_as_of_date), 0) as holdout_repeat_net_amount,
        count(*) filter (where has_purchase and order_date >= holdout_as_of_date) as holdout_actual_purchases
    from days_with_periods
    group by
        source_system, customer_id, as_of_date, observed_through_date, holdout_as_of_date, first_purchase_date
),

final as (
    select
        source_system,
        customer_id,
        as_of_date,
        first_purchase_date,
        last_purchase_date,
        cast(repeat_purchases as integer) as repeat_purchases,
        {{ dbt.datediff('first_purchase_date', 'last_purchase_date', 'day') }} as recency_span_days,
        {{ dbt.datediff('first_purchase_date', 'observed_through_date', 'day') }} as customer_age_days,
        cast(repeat_net_amount as numeric(18, 3)) as repeat_net_amount,
        case
            when repeat_purchases > 0 then cast(repeat_net_amount / repeat_purchases as numeric(18, 6))
        end as mean_repeat_spend,
        holdout_as_of_date,
        first_purchase_date < holdout_as_of_date as is_in_holdout,
        case
            when first_purchase_date < holdout_as_of_date then cast(holdout_repeat_purchases as integer)
        end as holdout_repeat_purchases,
        case
            when first_purchase_date < holdout_as_of_date
                then {{ dbt.datediff('first_purchase_date', 'holdout_last_purchase_date', 'day') }}
        end as holdout_recency_span_days,
        case
            when first_purchase_date < holdout_as_of_date
                then {{ dbt.datediff('first_purchase_date', dbt.dateadd('day', -1, 'holdout_as_of_date'), 'day') }}
        end as holdout_customer_age_days,
        case
            when holdout_repeat_purchases > 0
                then cast(holdout_repeat_net_amount / holdout_repeat_purchases as numeric(18, 6))
        end as holdout_mean_repeat_spend,
        case
            when first_purchase_date < holdout_as_of_date then cast(holdout_actual_purchases as integer)
        end as holdout_actual_purchases
    from summarised
)

select * from final
