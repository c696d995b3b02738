{{
    config(
        materialized='table',
        pre_hook=["set local enable_nestloop = off"] if target.type == 'postgres' else [],
    )
}}
{#-
    PostgreSQL estimates one row for each step's CTE (an aggregate of an
    aggregate) and would join the next step by nested loops: quadratic in the
    events (27 s at 20,000 events in session windows). Hash joins are linear.
-#}

{#-
    Which funnel steps each user reached, in order, within a window: a calendar
    day, or a session (events less than `event_session_gap_minutes` apart), as
    `event_funnel_window` says. Once over all of a window's events
    (funnel_category '(all)') and once per category (the window's events of
    that category only). Step k is reached at the first event of its type at
    or after the time step k - 1 was reached; step 1 at the first event of its
    type. One row per window (user, window_number, window_date), category and reached
    step.
-#}
{%- set steps = var('event_funnel_steps') -%}
{%- set by_session = var('event_funnel_window') == 'session' -%}
{%- if var('event_funnel_window') not in ('day', 'session') -%}
    {{ exceptions.raise_compiler_error(
        "event_funnel_window must be 'day' or 'session', not " ~ var('event_funnel_window')
    ) }}
{%- endif -%}

with

events as (
    select * from {{ ref('int_events_deduplicated') }}
),

{% if by_session -%}
    previous as (
        select
            *,
            lag(event_at) over (partition by user_id order by event_at, event_type) as previous_event_at
        from events
    ),

    gaps as (
        select
            *,
            case
                when previous_event_at is null then 1
                when
                    {{ dbt.datediff('previous_event_at', 'event_at', 'second') }}
                    >= {{ var('event_session_gap_minutes') }} * 60 then 1
                else 0
            end as starts_window
        from previous
    ),

    windowed as (
        select
            *,
            sum(starts_window) over (
                partition by user_id order by event_at, event_type rows between unbounded preceding and current row
            ) as window_number
        from gaps
    ),

    in_windows as (
        -- a session belongs to the day it starts
        select
            user_id,
            window_number,
            min(event_date) over (partition by user_id, window_number) as window_date,
            event_at,
            event_type,
            category_name
        from windowed
    ),
{%- else -%}
    in_windows as (
        select
            user_id,
            1 as window_number,
            event_date as window_date,
            event_at,
            event_type,
            category_name
        from events
    ),
{%- endif %}

sliced as (
    select
        user_id,
        window_number,
        window_date,
        event_at,
        event_type,
        cast('(all)' as {{ type_text() }}) as funnel_category
    from in_windows
    union all
    select
        user_id,
        window_number,
        window_date,
        event_at,
        event_type,
        coalesce(category_name, '(none)') as funnel_category
    from in_windows
),

{% for step in steps %}
    step_{{ loop.index }} as (
        select
        {%- if loop.first %}
            user_id,
            window_number,
            window_date,
            funnel_category,
            min(event_at) as reached_at
        from sliced
        where event_type = '{{ step }}'
        {%- else %}
            previous.user_id,
            previous.window_number,
            previous.window_date,
            previous.funnel_category,
            min(sliced.event_at) as reached_at
        from step_{{ loop.index0 }} as previous
        inner join sliced
            on
                previous.user_id = sliced.user_id
                and previous.window_number = sliced.window_number
                and previous.window_date = sliced.window_date
                and previous.funnel_category = sliced.funnel_category
                and previous.reached_at <= sliced.event_at
        where sliced.event_type = '{{ step }}'
        {%- endif %}
        group by 1, 2, 3, 4
    ),

{% endfor %}
final as (
    {%- for step in steps %}
        {{ 'union all' if not loop.first }}
        select
            user_id,
            window_number,
            window_date,
            funnel_category,
            {{ loop.index }} as step_number,
            '{{ step }}' as step_name,
            reached_at
        from step_{{ loop.index }}
    {%- endfor %}
)

select * from final
