{{
    config(
        materialized='table',
    )
}}

{%- set edges = var('event_age_band_edges') | map('int') | sort -%}
{%- set steps = var('event_funnel_steps') -%}

with

ranked as (
    select * from {{ ref('int_events_ranked') }}
),

kept as (
    select * from ranked
    where duplicate_rank = 1
),

described as (
    select
        load_id,
        line_number,
        user_id,
        event_at,
        cast(event_at as date) as event_date,
        event_type,
        event_value,
        category_name,
        city_name,
        gender_code,
        user_age,
        child_age,
        event_type = '{{ var("event_purchase_type") }}' as is_purchase,
        case event_type
            {%- for step in steps %}
                when '{{ step }}' then {{ loop.index }}
            {%- endfor %}
        end as funnel_step_number,
        case
            when user_age is null then 'unknown'
            {%- for edge in edges %}
                when
                    user_age < {{ edge }}
                    then '{{ "under " ~ edge if loop.first else edges[loop.index0 - 1] ~ "-" ~ (edge - 1) }}'
            {%- endfor %}
            else '{{ edges[-1] }}+'
        end as age_band
    from kept
)

select * from described
