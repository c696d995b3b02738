-- What each k-means cluster of customer_clusters is: size and revenue and
-- their shares in the source, the centroid in z-scores and in the original
-- units, the named RFM segments it is mostly made of, and a plain-language
-- label (seed rfm_cluster_labels) from where the centroid lies.
{%- set band = var('kmeans_label_band_z') %}

with

clusters as (
    select * from {{ ref('customer_clusters') }}
),

features as (
    select * from {{ ref('int_customer_features_standardised') }}
),

labels as (
    select * from {{ ref('rfm_cluster_labels') }}
),

members as (
    select
        clusters.source_system,
        clusters.cluster_id,
        clusters.k,
        clusters.currency_code,
        clusters.as_of_date,
        clusters.rfm_segment,
        features.recency_days,
        features.frequency,
        features.monetary,
        features.recency_log,
        features.frequency_log,
        features.monetary_log,
        features.recency_z,
        features.frequency_z,
        features.monetary_z
    from clusters
    inner join features
        on
            clusters.source_system = features.source_system
            and clusters.customer_id = features.customer_id
),

cluster_totals as (
    select
        source_system,
        cluster_id,
        min(k) as k,
        min(currency_code) as currency_code,
        min(as_of_date) as as_of_date,
        count(*) as customers,
        sum(monetary) as revenue,
        avg(recency_z) as centroid_recency_z,
        avg(frequency_z) as centroid_frequency_z,
        avg(monetary_z) as centroid_monetary_z,
        exp(avg(recency_log)) - 1 as centroid_recency_days,
        exp(avg(frequency_log)) - 1 as centroid_frequency,
        exp(avg(monetary_log)) - 1 as centroid_monetary,
        avg(recency_days) as avg_recency_days,
        avg(frequency) as avg_frequency,
        avg(monetary) as avg_monetary
    from members
    group by source_system, cluster_id
),

source_totals as (
    select
        source_system,
        sum(customers) as source_customers,
        sum(revenue) as source_revenue
    from cluster_totals
    group by source_system
),

segment_counts as (
    select
        source_system,
        cluster_id,
        rfm_segment,
        count(*) as customers,
        row_number() over (
            partition by source_system, cluster_id
            order by count(*) desc, rfm_segment collate "C" asc
        ) as segment_rank
    from members
    group by source_system, cluster_id, rfm_segment
),

segment_mix as (
    select
        segment_counts.source_system,
        segment_counts.cluster_id,
        max(segment_counts.rfm_segment) filter (where segment_counts.segment_rank = 1) as main_rfm_segment,
        max(segment_counts.customers) filter (where segment_counts.segment_rank = 1) as main_rfm_segment_customers,
        string_agg(
            segment_counts.rfm_segment || ' '
            || round(100.0 * segment_counts.customers / cluster_totals.customers) || '%',
            ', ' order by segment_counts.segment_rank
        ) filter (where segment_counts.segment_rank <= 3) as rfm_segment_mix
    from segment_counts
    inner join cluster_totals
        on
            segment_counts.source_system = cluster_totals.source_system
            and segment_counts.cluster_id = cluster_totals.cluster_id
    group by segment_counts.source_system, segment_counts.cluster_id
),

banded as (
    select
        *,
        case
            when centroid_recency_z <= -{{ band }} then 'recent'
            when centroid_recency_z >= {{ band }} then 'lapsed'
            else 'cooling'
        end as recency_band,
        case
            when (centroid_frequency_z + centroid_monetary_z) / 2 >= {{ band }} then 'high'
            when (centroid_frequency_z + centroid_monetary_z) / 2 <= -{{ band }} then 'low'
            else 'medium'
        end as value_band
    from cluster_totals
),

final as (
    select
        banded.source_system,
        cast(banded.cluster_id as integer) as cluster_id,
        banded.currency_code,
        banded.as_of_date,
        cast(banded.k as integer) as k,
        labels.cluster_label_en,
        labels.cluster_label_ru,
        banded.recency_band,
        banded.value_band,
        banded.customers,
        cast(banded.customers / source_totals.source_customers as numeric(18, 6)) as share_of_customers,
        cast(banded.revenue as numeric(18, 2)) as revenue,
        cast(banded.revenue / nullif(source_totals.source_revenue, 0) as numeric(18, 6)) as share_of_revenue,
        cast(banded.centroid_recency_z as numeric(18, 6)) as centroid_recency_z,
        cast(banded.centroid_frequency_z as numeric(18, 6)) as centroid_frequency_z,
        cast(banded.centroid_monetary_z as numeric(18, 6)) as centroid_monetary_z,
        cast(banded.centroid_recency_days as numeric(18, 2)) as centroid_recency_days,
        cast(banded.centroid_frequency as numeric(18, 2)) as centroid_frequency,
        cast(banded.centroid_monetary as numeric(18, 2)) as centroid_monetary,
        cast(banded.avg_recency_days as numeric(18, 2)) as avg_recency_days,
        cast(banded.avg_frequency as numeric(18, 2)) as avg_frequency,
        cast(banded.avg_monetary as numeric(18, 2)) as avg_monetary,
        segment_mix.main_rfm_segment,
        cast(
            1.0 * segment_mix.main_rfm_segment_customers / banded.customers as numeric(18, 6)
        ) as main_rfm_segment_share,
        segment_mix.rfm_segment_mix
    from banded
    inner join source_totals
        on banded.source_system = source_totals.source_system
    inner join segment_mix
        on
            banded.source_system = segment_mix.source_system
            and banded.cluster_id = segment_mix.cluster_id
    left join labels
        on
            banded.recency_band = labels.recency_band
            and banded.value_band = labels.value_band
)

select * from final
