{#-
    The dashboard's key figures per period (day, week, month: `event_period_grains`).
-#}
{%- set steps = var('event_funnel_steps') -%}

with

events as (
    select * from {{ ref('int_events_deduplicated') }}
),

funnel as (
    select * from {{ ref('event_funnel') }}
    where funnel_category = '(all)'
),

{% for grain in var('event_period_grains') %}
    by_{{ grain }} as (
        select
            cast('{{ grain }}' as {{ type_text() }}) as period_grain,
            cast({{ dbt.date_trunc(grain, 'event_date') }} as date) as period_start_date,
            count(*) as events,
            count(distinct user_id) as active_users,
            sum(case when is_purchase then 1 else 0 end) as orders,
            count(distinct case when is_purchase then user_id end) as buyers,
            coalesce(sum(case when is_purchase then event_value end), 0) as revenue
        from events
        group by 1, 2
    ),

{% endfor %}
periods as (
    {%- for grain in var('event_period_grains') %}
        {{ 'union all' if not loop.first }}
        select * from by_{{ grain }}
    {%- endfor %}
),

funnel_ends as (
    -- one row per step and period in the funnel: max() picks it
    select
        period_grain,
        period_start_date,
        max(case when step_number = 1 then reached_users else 0 end) as funnel_entered_users,
        max(case when step_number = {{ steps | length }} then reached_users else 0 end) as funnel_completed_users
    from funnel
    group by 1, 2
),

final as (
    select
        periods.period_grain,
        periods.period_start_date,
        periods.events,
        periods.active_users,
        periods.orders,
        periods.buyers,
        cast(periods.revenue as {{ type_number(18, 2) }}) as revenue,
        cast({{ money_ratio('periods.revenue', 'periods.orders') }} as {{ type_number(18, 2) }}) as average_order_value,
        cast({{ money_ratio('periods.revenue', 'periods.active_users') }} as {{ type_number(18, 4) }}) as arpu,
        cast({{ money_ratio('periods.revenue', 'periods.buyers') }} as {{ type_number(18, 4) }}) as arppu,
        cast(
            {{ count_as_number('periods.buyers') }} / nullif(periods.active_users, 0) as {{ type_number(9, 6) }}
        ) as paying_share,
        coalesce(funnel_ends.funnel_entered_users, 0) as funnel_entered_users,
        coalesce(funnel_ends.funnel_completed_users, 0) as funnel_completed_users,
        cast(
            {{ count_as_number('funnel_ends.funnel_completed_users') }}
            / nullif(funnel_ends.funnel_entered_users, 0) as {{ type_number(9, 6) }}
        ) as funnel_conversion_rate
    from periods
    left join funnel_ends
        on
            periods.period_grain = funnel_ends.period_grain
            and periods.period_start_date = funnel_ends.period_start_date
)

select * from final
