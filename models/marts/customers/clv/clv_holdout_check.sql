with

summary as (
    select * from {{ ref('int_customer_clv_summarised') }}
    where is_in_holdout
),

predictions as (
    select * from {{ ref('stg_clv__holdout_scores') }}
),

periods as (
    select * from {{ ref('int_clv_calibration_periods_derived') }}
),

segment_history as (
    select * from {{ ref('customer_segment_history') }}
),

snapshot_dates as (
    -- the latest monthly segment snapshot that does not see past the holdout as-of date
    select
        periods.source_system,
        max(segment_history.as_of_date) as segment_as_of_date
    from periods
    inner join segment_history
        on
            periods.source_system = segment_history.source_system
            and periods.holdout_as_of_date >= segment_history.as_of_date
    group by periods.source_system
),

segments as (
    select
        segment_history.source_system,
        segment_history.customer_id,
        segment_history.as_of_date,
        segment_history.rfm_segment
    from segment_history
    inner join snapshot_dates
        on
            segment_history.source_system = snapshot_dates.source_system
            and segment_history.as_of_date = snapshot_dates.segment_as_of_date
),

customers as (
    select
        summary.source_system,
        summary.customer_id,
        predictions.holdout_as_of_date,
        snapshot_dates.segment_as_of_date,
        coalesce(segments.rfm_segment, 'Unsegmented') as rfm_segment,
        predictions.predicted_purchases,
        summary.holdout_actual_purchases
    from summary
    inner join predictions
        on
            summary.source_system = predictions.source_system
            and summary.customer_id = predictions.customer_id
            and summary.holdout_as_of_date = predictions.holdout_as_of_date
    left join snapshot_dates
        on summary.source_system = snapshot_dates.source_system
    left join segments
        on
            summary.source_system = segments.source_system
            and summary.customer_id = segments.customer_id
),

aggregated as (
    select
        source_system,
        coalesce(rfm_segment, 'All customers') as rfm_segment,
        grouping(rfm_segment) = 1 as is_source_total,
        min(holdout_as_of_date) as holdout_as_of_date,
        min(segment_as_of_date) as segment_as_of_date,
        count(*) as customers,
        sum(predicted_purchases) as predicted_purchases,
        sum(holdout_actual_purchases) as actual_purchases,
        sum(abs(predicted_purchases - holdout_actual_purchases)) as absolute_error
    from customers
    group by grouping sets ((source_system, rfm_segment), (source_system))
),

final as (
    select
        aggregated.source_system,
        aggregated.rfm_segment,
        aggregated.is_source_total,
        aggregated.holdout_as_of_date,
        periods.holdout_days,
        aggregated.segment_as_of_date,
        aggregated.customers,
        cast(aggregated.predicted_purchases as numeric(18, 3)) as predicted_purchases,
        cast(aggregated.actual_purchases as bigint) as actual_purchases,
        cast(aggregated.predicted_purchases / nullif(aggregated.actual_purchases, 0) as numeric(18, 6))
            as predicted_to_actual_ratio,
        cast(aggregated.absolute_error / aggregated.customers as numeric(18, 6)) as mean_absolute_error
    from aggregated
    left join periods
        on aggregated.source_system = periods.source_system
)

select * from final
