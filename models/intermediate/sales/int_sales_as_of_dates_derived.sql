-- A table: seven models read it: aggregate the documents once, not once per reader.
{{ config(materialized='table') }}

with

orders as (
    select * from {{ ref('int_sales_orders_aggregated') }}
    where kept_line_count > 0
),

source_dates as (
    select
        source_system,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from orders
    group by source_system
),

as_of as (
    select
        source_system,
        first_order_date,
        last_order_date,
        {% if var('as_of_date') is not none -%}
            cast('{{ var("as_of_date") }}' as date)
        {%- else -%}
            cast({{ dbt.dateadd('day', 1, 'last_order_date') }} as date)
        {%- endif %} as as_of_date
    from source_dates
),

months as (
    select
        source_system,
        first_order_date,
        last_order_date,
        as_of_date,
        cast({{ dbt.date_trunc('month', dbt.dateadd('day', -1, 'as_of_date')) }} as date) as as_of_month
    from as_of
),

final as (
    select
        source_system,
        first_order_date,
        last_order_date,
        as_of_date,
        as_of_month,
        cast({{ dbt.dateadd('month', 1, 'as_of_month') }} as date) = as_of_date as is_as_of_month_complete,
        case
            when cast({{ dbt.dateadd('month', 1, 'as_of_month') }} as date) = as_of_date then as_of_month
            else cast({{ dbt.dateadd('month', -1, 'as_of_month') }} as date)
        end as last_observable_month
    from months
)

select * from final
