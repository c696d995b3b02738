with

customers as (
    select * from {{ ref('customer_rfm') }}
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

metric_values as (
    select
        source_system,
        as_of_date,
        'recency_days' as metric,
        r_score as score,
        cast(recency_days as {{ type_number() }}) as metric_value
    from customers
    union all
    select
        source_system,
        as_of_date,
        'frequency' as metric,
        f_score as score,
        cast(frequency as {{ type_number() }}) as metric_value
    from customers
    union all
    select
        source_system,
        as_of_date,
        'monetary' as metric,
        m_score as score,
        monetary as metric_value
    from customers
),

score_ranges as (
    select
        source_system,
        metric,
        score,
        min(metric_value) as min_value,
        max(metric_value) as max_value,
        count(*) as customers
    from metric_values
    group by source_system, metric, score
),

source_metrics as (
    select distinct
        source_system,
        as_of_date,
        metric
    from metric_values
),

scores as (
    select distinct r_score as score
    from segment_map
),

spine as (
    select
        source_metrics.source_system,
        source_metrics.as_of_date,
        source_metrics.metric,
        scores.score
    from source_metrics
    cross join scores
),

final as (
    select
        spine.source_system,
        spine.as_of_date,
        spine.metric,
        spine.score,
        cast(score_ranges.min_value as numeric(18, 3)) as min_value,
        cast(score_ranges.max_value as numeric(18, 3)) as max_value,
        coalesce(score_ranges.customers, 0) as customers
    from spine
    left join score_ranges
        on
            spine.source_system = score_ranges.source_system
            and spine.metric = score_ranges.metric
            and spine.score = score_ranges.score
)

select * from final
