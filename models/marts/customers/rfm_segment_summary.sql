with

customers as (
    select * from {{ ref('customer_rfm') }}
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

segments as (
    select distinct
        rfm_segment,
        segment_description,
        recommended_action
    from segment_map
),

source_totals as (
    select
        source_system,
        currency_code,
        as_of_date,
        count(*) as source_customers,
        sum(monetary) as source_revenue
    from customers
    group by source_system, currency_code, as_of_date
),

segment_totals as (
    select
        source_system,
        rfm_segment,
        count(*) as customers,
        sum(monetary) as revenue,
        avg(recency_days) as avg_recency_days,
        avg(frequency) as avg_frequency,
        avg(monetary) as avg_monetary
    from customers
    group by source_system, rfm_segment
),

spine as (
    select
        source_totals.source_system,
        source_totals.currency_code,
        source_totals.as_of_date,
        source_totals.source_customers,
        source_totals.source_revenue,
        segments.rfm_segment,
        segments.segment_description,
        segments.recommended_action
    from source_totals
    cross join segments
),

final as (
    select
        spine.source_system,
        spine.rfm_segment,
        spine.currency_code,
        spine.as_of_date,
        coalesce(segment_totals.customers, 0) as customers,
        {{ fixed_share(
            'coalesce(segment_totals.customers, 0) / ' ~ count_as_number('spine.source_customers'),
            'spine.source_system',
            'spine.rfm_segment',
        ) }} as share_of_customers,
        cast(coalesce(segment_totals.revenue, 0) as numeric(18, 3)) as revenue,
        {{ fixed_share(
            'cast(coalesce(segment_totals.revenue, 0) as ' ~ type_number() ~ ')'
            ~ ' / nullif(cast(spine.source_revenue as ' ~ type_number() ~ '), 0)',
            'spine.source_system',
            'spine.rfm_segment',
        ) }} as share_of_revenue,
        cast(segment_totals.avg_recency_days as numeric(10, 2)) as avg_recency_days,
        cast(segment_totals.avg_frequency as numeric(10, 2)) as avg_frequency,
        cast(segment_totals.avg_monetary as numeric(18, 2)) as avg_monetary,
        spine.segment_description,
        spine.recommended_action
    from spine
    left join segment_totals
        on
            spine.source_system = segment_totals.source_system
            and spine.rfm_segment = segment_totals.rfm_segment
)

select * from final
