-- Every trading day (a day with at least one kept document) per source with
-- the z-score of its net revenue against the source's trading days among the
-- anomaly_window_days calendar days before it (the day itself excluded).
-- Days without sales are not observations: UCI does not trade on Saturdays,
-- and a zero there would be the calendar, not a bad day. With fewer than
-- anomaly_min_observations days in the window, or no spread, z is NULL and
-- the day is not an anomaly.
with

orders as (
    select * from {{ ref('int_sales_orders_aggregated') }}
    where kept_line_count > 0
),

daily_revenue as (
    select
        source_system,
        order_date,
        sum(net_amount) as revenue,
        count(*) as documents
    from orders
    group by source_system, order_date
),

windowed as (
    select
        source_system,
        order_date,
        revenue,
        documents,
        {{ trailing_window_stats('revenue') }}
    from daily_revenue
    {{ trailing_days_window('order_date') }}
),

scored as (
    select
        *,
        {{ anomaly_z_score('revenue') }} as z_score
    from windowed
),

final as (
    select
        source_system,
        order_date,
        revenue,
        documents,
        window_observations,
        window_mean,
        window_stddev,
        z_score,
        coalesce(abs(z_score) > {{ var('anomaly_z_threshold') }}, false) as is_anomaly
    from scored
)

select * from final
