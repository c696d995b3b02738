{#-
    Trailing-window statistics for anomaly z-scores (order_anomalies,
    daily_revenue_anomalies). The window is the `anomaly_window_days` calendar
    days before the row's day: the row's own day is excluded, so a point never
    sits in its own baseline.
-#}

{% macro trailing_window_stats(value_column) -%}
    count(*) over trailing_days as window_observations,
    avg({{ value_column }}) over trailing_days as window_mean,
    stddev_samp({{ value_column }}) over trailing_days as window_stddev
{%- endmacro %}

{% macro trailing_days_window(date_column) -%}
    window trailing_days as (
        partition by source_system
        order by {{ date_column }}
        range between interval '{{ var("anomaly_window_days") }} days' preceding and interval '1 day' preceding
    )
{%- endmacro %}

{% macro anomaly_z_score(value_column) -%}
    case
        when window_observations >= {{ var('anomaly_min_observations') }}
            then ({{ value_column }} - window_mean) / nullif(window_stddev, 0)
    end
{%- endmacro %}
