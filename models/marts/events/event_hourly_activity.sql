{#- Activity by hour of day and ISO weekday, per calendar year. -#}
with

events as (
    select * from {{ ref('int_events_deduplicated') }}
),

timed as (
    select
        user_id,
        is_purchase,
        event_value,
        cast(extract(year from event_at) as integer) as activity_year,
        {{ iso_weekday('event_date') }} as weekday_number,
        cast(extract(hour from event_at) as integer) as hour_of_day
    from events
),

final as (
    select
        activity_year,
        weekday_number,
        hour_of_day,
        count(*) as events,
        count(distinct user_id) as active_users,
        sum(case when is_purchase then 1 else 0 end) as orders,
        cast(coalesce(sum(case when is_purchase then event_value end), 0) as {{ type_number(18, 2) }}) as revenue
    from timed
    group by activity_year, weekday_number, hour_of_day
)

select * from final
