-- The value ranges of a metric's scores never overlap and follow the score
-- order: higher scores hold higher frequency and monetary values, and fewer
-- recency days. Overlap would mean equal values got different scores.
-- Scores without customers are skipped.
with

cut_points as (
    select * from {{ ref('rfm_score_cut_points') }}
    where customers > 0
),

ordered as (
    select
        source_system,
        metric,
        score,
        min_value,
        max_value,
        lead(min_value) over score_order as next_min_value,
        lead(max_value) over score_order as next_max_value
    from cut_points
    window score_order as (partition by source_system, metric order by score)
)

select * from ordered
where
    next_min_value is not null
    and (
        (metric = 'recency_days' and next_max_value >= min_value)
        or (metric <> 'recency_days' and next_min_value <= max_value)
    )
