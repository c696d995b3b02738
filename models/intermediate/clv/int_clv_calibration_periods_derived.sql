-- A table: segmart's CLV step (segmart/clv/job.py) reads it, with the vars it must use.
{{ config(materialized='table') }}

with

as_of_dates as (
    select * from {{ ref('int_sales_as_of_dates_derived') }}
),

final as (
    select
        source_system,
        first_order_date,
        as_of_date,
        cast({{ dbt.dateadd('day', -1, 'as_of_date') }} as date) as observed_through_date,
        cast({{ dbt.dateadd('day', '-' ~ var('clv_holdout_days'), 'as_of_date') }} as date) as holdout_as_of_date,
        cast({{ var('clv_holdout_days') }} as integer) as holdout_days,
        cast({{ var('clv_horizon_months') }} as integer) as horizon_months,
        cast({{ var('clv_monthly_discount_rate') }} as numeric(10, 6)) as monthly_discount_rate,
        cast({{ var('clv_min_repeat_buyers') }} as integer) as min_repeat_buyers
    from as_of_dates
)

select * from final
