-- Every order (a kept document that is not a return) with the z-score of its
-- net amount against the source's orders of the anomaly_window_days calendar
-- days before the order's day. The order's own day is not in the window, so an
-- order never takes part in its own baseline (nor do the orders of the same
-- day). The window is counted in days, not rows. With fewer than
-- anomaly_min_observations orders in it, or no spread, z is NULL and the
-- order is not an anomaly.
with

orders as (
    select * from {{ ref('int_sales_orders_aggregated') }}
    where
        kept_line_count > 0
        and not is_return
),

windowed as (
    select
        document_key,
        source_system,
        order_id,
        customer_id,
        ordered_at,
        order_date,
        net_amount,
        {{ trailing_window_stats('net_amount') }}
    from orders
    {{ trailing_days_window('order_date') }}
),

scored as (
    select
        *,
        {{ anomaly_z_score('net_amount') }} as z_score
    from windowed
),

final as (
    select
        document_key,
        source_system,
        order_id,
        customer_id,
        ordered_at,
        order_date,
        net_amount,
        window_observations,
        window_mean,
        window_stddev,
        z_score,
        coalesce(abs(z_score) > {{ var('anomaly_z_threshold') }}, false) as is_anomaly
    from scored
)

select * from final
