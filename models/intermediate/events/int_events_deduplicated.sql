{{
    config(
        materialized='table',
    )
}}

{%- set edges = var('event_age_band_edges') | map('int') | sort -%}

with

events as (
    select * from {{ ref('stg_events__events') }}
),

ranked as (
    -- the first landed copy of an event (user, time, type) is 1: lowest load, then line
    select
        *,
        row_number() over (
            partition by user_id, event_at, event_type
            order by load_id, line_number
        ) as duplicate_rank
    from events
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
