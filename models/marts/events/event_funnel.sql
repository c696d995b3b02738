{#-
    Users who reached each funnel step in order within a window (int_event_funnel_windows),
    per period and category; '(all)' counts every category together. A user counts once
    per period and step however many windows reached it.
-#}
with

windows as (
    select * from {{ ref('int_event_funnel_windows') }}
),

{% for grain in var('event_period_grains') %}
    by_{{ grain }} as (
        select
            cast('{{ grain }}' as {{ type_text() }}) as period_grain,
            cast({{ dbt.date_trunc(grain, 'window_date') }} as date) as period_start_date,
            funnel_category,
            step_number,
            step_name,
            count(distinct user_id) as reached_users
        from windows
        group by 1, 2, 3, 4, 5
    ),

{% endfor %}
steps as (
    {%- for grain in var('event_period_grains') %}
        {{ 'union all' if not loop.first }}
        select * from by_{{ grain }}
    {%- endfor %}
),

compared as (
    select
        *,
        lag(reached_users) over (
            partition by period_grain, period_start_date, funnel_category order by step_number
        ) as previous_step_users,
        first_value(reached_users) over (
            partition by period_grain, period_start_date, funnel_category order by step_number
        ) as first_step_users
    from steps
),

final as (
    select
        period_grain,
        period_start_date,
        cast(funnel_category as {{ type_text() }}) as funnel_category,
        step_number,
        cast(step_name as {{ type_text() }}) as step_name,
        reached_users,
        cast(
            {{ count_as_number('reached_users') }} / nullif(previous_step_users, 0) as {{ type_number(9, 6) }}
        ) as conversion_from_previous_rate,
        -- reaching step k needs step k - 1 in the same window: every period has step 1
        cast({{ count_as_number('reached_users') }} / first_step_users as {{ type_number(9, 6) }})
            as conversion_from_first_rate
    from compared
)

select * from final
