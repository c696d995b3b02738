{#-
    Revenue and users per period and value of each user dimension: category,
    city, gender, age band. An unknown value is '(unknown)'.
-#}
{%- set dimensions = {
    'category': 'category_name',
    'city': 'city_name',
    'gender': 'gender_code',
    'age_band': 'age_band',
} -%}

with

events as (
    select * from {{ ref('int_events_deduplicated') }}
),

{% for grain in var('event_period_grains') %}
    {%- set grain_loop = loop %}
    {%- for dimension, column in dimensions.items() %}
        {{ grain }}_{{ dimension }} as (
            select
                cast('{{ grain }}' as {{ type_text() }}) as period_grain,
                cast({{ dbt.date_trunc(grain, 'event_date') }} as date) as period_start_date,
                cast('{{ dimension }}' as {{ type_text() }}) as dimension_name,
                coalesce(cast({{ column }} as {{ type_text() }}), '(unknown)') as dimension_value,
                count(distinct user_id) as active_users,
                count(distinct case when is_purchase then user_id end) as buyers,
                sum(case when is_purchase then 1 else 0 end) as orders,
                coalesce(sum(case when is_purchase then event_value end), 0) as revenue
            from events
            group by 1, 2, 3, 4
        ),

    {% endfor %}
{%- endfor %}
sliced as (
    {%- for grain in var('event_period_grains') %}
        {%- set first_grain = loop.first %}
        {%- for dimension in dimensions %}
            {{ 'union all' if not (first_grain and loop.first) }}
            select * from {{ grain }}_{{ dimension }}
        {%- endfor %}
    {%- endfor %}
),

shared as (
    select
        *,
        sum(revenue) over (partition by period_grain, period_start_date, dimension_name) as period_revenue
    from sliced
),

final as (
    select
        period_grain,
        period_start_date,
        dimension_name,
        dimension_value,
        active_users,
        buyers,
        orders,
        cast(revenue as {{ type_number(18, 2) }}) as revenue,
        cast({{ money_ratio('revenue', 'active_users') }} as {{ type_number(18, 4) }}) as arpu,
        cast({{ money_ratio('revenue', 'buyers') }} as {{ type_number(18, 4) }}) as arppu,
        cast({{ money_ratio('revenue', 'period_revenue') }} as {{ type_number(9, 6) }}) as revenue_share
    from shared
)

select * from final
