with

as_of_dates as (
    select * from {{ ref('int_sales_as_of_dates_derived') }}
),

customer_documents as (
    select * from {{ ref('int_customer_documents_filtered') }}
    where not is_return
),

first_purchases as (
    select
        source_system,
        min(order_date) as first_purchase_date
    from customer_documents
    group by source_system
),

bounds as (
    select
        as_of_dates.source_system,
        as_of_dates.as_of_date as source_as_of_date,
        cast(
            {{ dbt.dateadd('month', 1, dbt.date_trunc('month', 'first_purchases.first_purchase_date')) }} as date
        ) as first_as_of_date,
        cast({{ dbt.date_trunc('month', 'as_of_dates.as_of_date') }} as date) as last_as_of_date
    from as_of_dates
    inner join first_purchases
        on as_of_dates.source_system = first_purchases.source_system
),

months as (
    select
        bounds.source_system,
        bounds.source_as_of_date,
        cast(month_series.month_start as date) as as_of_date
    from bounds
    {{ series_join('bounds.first_as_of_date', 'bounds.last_as_of_date', 'month_series', 'month_start', step='month') }}
),

final as (
    select
        source_system,
        as_of_date,
        source_as_of_date
    from months
    {%- if var('rfm_history_months') is not none %}
        {%- set history_start = dbt.dateadd('month', 1 - var('rfm_history_months') | int, 'source_as_of_date') %}
        where as_of_date >= cast({{ dbt.date_trunc('month', history_start) }} as date)
    {%- endif %}
)

select * from final
