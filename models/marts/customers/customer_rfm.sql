-- Current RFM of every customer with at least one purchase before the
-- source's as_of_date: recency, frequency and monetary, their 1-5 scores
-- (macro rfm_score: rank-based quantiles, ties share a score, recency
-- inverted) and the segment of the score code (seed rfm_segment_map).
-- Scores are relative to the customers of the same source.
with

customer_orders as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

sources as (
    select * from {{ ref('sales_sources') }}
),

rfm_values as (
    select
        source_system,
        customer_id,
        as_of_date,
        first_purchase_date,
        last_purchase_date,
        {{ dbt.datediff('last_purchase_date', 'as_of_date', 'day') }} as recency_days,
        frequency,
        monetary,
        return_count,
        return_amount
    from customer_orders
    where has_purchase
),

scored as (
    select
        *,
        {{ rfm_scores() }}
    from rfm_values
),

final as (
    select
        scored.source_system,
        scored.customer_id,
        sources.currency_code,
        scored.as_of_date,
        scored.first_purchase_date,
        scored.last_purchase_date,
        cast(scored.recency_days as integer) as recency_days,
        cast(scored.frequency as integer) as frequency,
        scored.monetary,
        cast(scored.return_count as integer) as return_count,
        scored.return_amount,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        segment_map.rfm_score,
        segment_map.rfm_segment
    from scored
    left join segment_map
        on
            scored.r_score = segment_map.r_score
            and scored.f_score = segment_map.f_score
            and scored.m_score = segment_map.m_score
    left join sources
        on scored.source_system = sources.source_system
)

select * from final
