{#-
    Every landed event with its place among the exact duplicates of the same
    user, time and type (1 = the first landed: lowest load, then line).
-#}
with

events as (
    select * from {{ ref('stg_events__events') }}
),

ranked as (
    select
        load_id,
        line_number,
        user_id,
        event_at,
        event_type,
        event_value,
        category_name,
        city_name,
        gender_code,
        user_age,
        child_age,
        row_number() over (
            partition by user_id, event_at, event_type
            order by load_id, line_number
        ) as duplicate_rank
    from events
)

select * from ranked
