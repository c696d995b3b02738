-- One row per day over whole calendar years that cover every date the marts
-- can hold: every sales line (UCI and 1C, order and customer-order dates),
-- every bank product use, every event of an event log, the day after the last
-- of each (the default as-of dates) and the as-of vars when set. Reads staging, not marts, so that marts
-- can declare foreign keys to it.
-- Incremental (merge on calendar_date) so that the table is never swapped:
-- a swap drops the foreign keys that other marts (incremental ones included)
-- declare to it. Every run recomputes every day and updates the flags.
-- The calendar's as-of date is the `calendar_as_of_date` var, or by default
-- the day after the newest date of any source; a day is observed before it
-- and a month is complete when its last day is observed.
{{
    config(
        materialized='incremental',
        unique_key='calendar_date',
        incremental_strategy='merge',
    )
}}

with

uci_lines as (
    select * from {{ ref('stg_sales__uci_lines') }}
),

onec_lines as (
    select * from {{ ref('stg_sales__onec_lines') }}
),

product_usage as (
    select * from {{ ref('stg_bank__product_usage') }}
),

events as (
    select * from {{ ref('stg_events__events') }}
),

month_names as (
    select * from {{ ref('calendar_month_names') }}
),

source_dates as (
    select
        min(cast(ordered_at as date)) as first_date,
        max(cast(ordered_at as date)) as last_date
    from uci_lines
    union all
    select
        least(min(cast(ordered_at as date)), min(cast(customer_ordered_at as date))) as first_date,
        greatest(max(cast(ordered_at as date)), max(cast(customer_ordered_at as date))) as last_date
    from onec_lines
    union all
    select
        min(usage_date) as first_date,
        max(usage_date) as last_date
    from product_usage
    union all
    select
        min(cast(event_at as date)) as first_date,
        max(cast(event_at as date)) as last_date
    from events
),

configured_dates as (
    {%- set configured = [] -%}
    {%- for name in ['as_of_date', 'bank_as_of_date', 'calendar_as_of_date'] -%}
        {%- if var(name, none) is not none -%}
            {%- do configured.append(var(name)) -%}
        {%- endif -%}
    {%- endfor %}
    {%- for value in configured %}
        select cast('{{ value }}' as date) as configured_date
        union all
    {%- endfor %}
    select cast(null as date) as configured_date
),

bounds as (
    select
        least(
            min(source_dates.first_date),
            (select min(configured_dates.configured_date) from configured_dates)
        ) as first_date,
        greatest(
            cast({{ dbt.dateadd('day', 1, 'max(source_dates.last_date)') }} as date),
            (select max(configured_dates.configured_date) from configured_dates)
        ) as last_date,
        max(source_dates.last_date) as last_source_date
    from source_dates
),

calendar_bounds as (
    -- whole years (no data yet: no days)
    select
        cast({{ dbt.date_trunc('year', 'first_date') }} as date) as first_calendar_date,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('year', 1, dbt.date_trunc('year', 'last_date'))) }} as date)
            as last_calendar_date,
        {% if var('calendar_as_of_date', none) is not none -%}
            cast('{{ var("calendar_as_of_date") }}' as date)
        {%- else -%}
            cast({{ dbt.dateadd('day', 1, 'last_source_date') }} as date)
        {%- endif %} as as_of_date
    from bounds
),

days as (
    select
        cast(day_series.calendar_day as date) as calendar_date,
        calendar_bounds.as_of_date
    from calendar_bounds
    cross join lateral generate_series(
        calendar_bounds.first_calendar_date,
        calendar_bounds.last_calendar_date,
        interval '1 day'
    ) as day_series (calendar_day)
),

parts as (
    select
        calendar_date,
        as_of_date,
        cast(extract(year from calendar_date) as integer) as calendar_year,
        cast(extract(quarter from calendar_date) as integer) as quarter_of_year,
        cast(extract(month from calendar_date) as integer) as month_of_year,
        cast(extract(day from calendar_date) as integer) as day_of_month,
        cast(extract(doy from calendar_date) as integer) as day_of_year,
        cast(extract(isodow from calendar_date) as integer) as iso_day_of_week,
        cast(extract(isoyear from calendar_date) as integer) as iso_year,
        cast(extract(week from calendar_date) as integer) as iso_week,
        cast({{ dbt.date_trunc('month', 'calendar_date') }} as date) as month_start_date,
        cast({{ dbt.date_trunc('quarter', 'calendar_date') }} as date) as quarter_start_date,
        cast({{ dbt.date_trunc('year', 'calendar_date') }} as date) as year_start_date,
        cast({{ dbt.date_trunc('week', 'calendar_date') }} as date) as iso_week_start_date
    from days
),

final as (
    select
        parts.calendar_date,
        parts.calendar_year,
        parts.quarter_of_year,
        parts.month_of_year,
        parts.day_of_month,
        parts.day_of_year,
        parts.iso_day_of_week,
        parts.iso_year,
        parts.iso_week,
        to_char(parts.calendar_date, 'IYYY-"W"IW') as iso_week_label,
        to_char(parts.calendar_date, 'YYYY-MM') as month_label,
        to_char(parts.calendar_date, 'YYYY-"Q"Q') as quarter_label,
        parts.month_start_date,
        cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'parts.month_start_date')) }} as date)
            as month_end_date,
        parts.quarter_start_date,
        parts.year_start_date,
        parts.iso_week_start_date,
        month_names.month_name_en,
        month_names.month_short_en,
        month_names.month_name_ru,
        month_names.month_short_ru,
        month_names.month_name_ru_genitive,
        parts.iso_day_of_week >= 6 as is_weekend,
        parts.as_of_date,
        parts.calendar_date < parts.as_of_date as is_observed,
        parts.calendar_date = parts.as_of_date as is_as_of_date,
        cast({{ dbt.dateadd('month', 1, 'parts.month_start_date') }} as date) <= parts.as_of_date
            as is_complete_month
    from parts
    inner join month_names
        on parts.month_of_year = month_names.month_number
)

select * from final
