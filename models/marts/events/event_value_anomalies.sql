{#-
    Daily revenue of the whole shop, of each category and of each gender, scored
    against its trailing window as the sales anomalies are (macro
    anomaly_scored_ctes). Every day with any event is a point of every slice:
    a day without purchases in a slice is revenue 0 there, not a missing point.
-#}
{%- set slices = {'category': 'category_name', 'gender': 'gender_code'} -%}

with

events as (
    select * from {{ ref('int_events_deduplicated') }}
),

days as (
    select distinct event_date from events
),

purchases as (
    select
        event_date,
        cast('total' as {{ type_text() }}) as slice_dimension,
        cast('(all)' as {{ type_text() }}) as slice_value,
        event_value
    from events
    where is_purchase
    {%- for dimension, column in slices.items() %}
        union all
        select
            event_date,
            cast('{{ dimension }}' as {{ type_text() }}) as slice_dimension,
            coalesce({{ column }}, '(unknown)') as slice_value,
            event_value
        from events
        where is_purchase
    {%- endfor %}
),

slice_values as (
    select distinct
        slice_dimension,
        slice_value
    from purchases
),

daily as (
    select
        event_date,
        slice_dimension,
        slice_value,
        count(*) as orders,
        sum(event_value) as revenue
    from purchases
    group by event_date, slice_dimension, slice_value
),

points as (
    select
        days.event_date,
        slice_values.slice_dimension,
        slice_values.slice_value,
        coalesce(daily.orders, 0) as orders,
        coalesce(daily.revenue, 0) as revenue
    from days
    cross join slice_values
    left join daily
        on
            days.event_date = daily.event_date
            and slice_values.slice_dimension = daily.slice_dimension
            and slice_values.slice_value = daily.slice_value
),

{{ anomaly_scored_ctes('points', 'revenue', 'event_date', partition_by='slice_dimension, slice_value') }},

final as (
    select
        event_date,
        slice_dimension,
        slice_value,
        orders,
        cast(revenue as {{ type_number(18, 2) }}) as revenue,
        {{ anomaly_columns() }}
    from anomaly_scored
)

select * from final
