{#-
    The anomaly scoring the anomaly marts share (order_anomalies,
    daily_revenue_anomalies, event_value_anomalies), as three CTEs to follow the model's own (the
    caller writes the commas around them). `observations` names a CTE holding
    source_system, `date_column` and `value_column`; its columns pass through.
    `anomaly_windowed` adds the trailing-window statistics of `value_column`:
    the window is the `anomaly_window_days` calendar days before the row's day,
    the row's own day excluded, so a point never sits in its own baseline.
    `anomaly_z_scored` adds z_score (null with fewer than
    `anomaly_min_observations` points in the window, or no spread), and
    `anomaly_scored` is_anomaly (|z| above `anomaly_z_threshold`; false when z
    is null). `partition_by`: the columns each series is keyed by (one series
    per source by default; the event anomalies have one per slice). The
    window orders by the day's number (days since 1900-01-01) so that the
    range frame is plain integers on PostgreSQL and Spark alike.
-#}
{% macro anomaly_scored_ctes(observations, value_column, date_column, partition_by='source_system') -%}
    anomaly_windowed as (
        select
            *,
            count(*) over trailing_days as window_observations,
            avg({{ value_column }}) over trailing_days as window_mean,
            stddev_samp({{ value_column }}) over trailing_days as window_stddev
        from {{ observations }}
        window trailing_days as (
            partition by {{ partition_by }}
            order by {{ dbt.datediff("cast('1900-01-01' as date)", date_column, 'day') }}
            range between {{ var("anomaly_window_days") }} preceding and 1 preceding
        )
    ),

    anomaly_z_scored as (
        select
            *,
            case
                when window_observations >= {{ var('anomaly_min_observations') }}
                    then ({{ value_column }} - window_mean) / nullif(window_stddev, 0)
            end as z_score
        from anomaly_windowed
    ),

    anomaly_scored as (
        select
            *,
            coalesce(abs(z_score) > {{ var('anomaly_z_threshold') }}, false) as is_anomaly
        from anomaly_z_scored
    )
{%- endmacro %}

{#-
    The scoring columns both anomaly marts show, at their contract's scale:
    the baseline in money to the cent, z to four places (is_anomaly is decided
    on the unrounded z).
-#}
{% macro anomaly_columns() -%}
    window_observations,
    cast(window_mean as numeric(18, 2)) as window_mean,
    cast(window_stddev as numeric(18, 2)) as window_stddev,
    cast(z_score as numeric(9, 4)) as z_score,
    is_anomaly
{%- endmacro %}
