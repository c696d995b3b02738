-- The k-means cluster (k = var kmeans_k) of every customer of customer_rfm,
-- per source, on the standardised log RFM features: the cluster, the
-- Euclidean distance to its centroid and the Lloyd steps the source needed.
-- Initialisation, iterations and tie breaks: macros/clusters/kmeans.sql.
-- Warm start: when the table exists from an earlier build with the same k and
-- this is not a full refresh (var kmeans_warm_start), a source starts from the
-- means of the last build's clusters on today's features, so a day with few
-- changes converges in a few steps and cluster numbers stay put. A source
-- without all k earlier clusters starts from the deterministic initialisation.
{%- set k = var('kmeans_k') | int %}
{%- set warm = kmeans_warm_start_enabled() %}

with recursive

features as (
    select * from {{ ref('int_customer_features_standardised') }}
),

cold_centroids as (
    {{ kmeans_initial_centroids('features', [k]) }}
),

-- the last build's assignment (none when the start is cold)
previous_clusters as (
    {% if warm %}
        select
            source_system,
            customer_id,
            k,
            cluster_id
        from {{ this }}
    {% else %}
        select
            source_system,
            customer_id,
            0 as k,
            0 as cluster_id
        from features
        where false
    {% endif %}
),

warm_centroids as (
    select
        features.source_system,
        {{ k }} as k,
        previous_clusters.cluster_id,
        avg(features.recency_z) as recency_z,
        avg(features.frequency_z) as frequency_z,
        avg(features.monetary_z) as monetary_z,
        count(*) as customers
    from previous_clusters
    inner join features
        on
            previous_clusters.source_system = features.source_system
            and previous_clusters.customer_id = features.customer_id
    where previous_clusters.k = {{ k }}
    group by features.source_system, previous_clusters.cluster_id
),

warm_sources as (
    select source_system
    from warm_centroids
    group by source_system
    having count(*) = {{ k }} and min(cluster_id) = 1 and max(cluster_id) = {{ k }}
),

initial_centroids as (
    select
        warm_centroids.*,
        true as is_warm_started
    from warm_centroids
    inner join warm_sources
        on warm_centroids.source_system = warm_sources.source_system
    union all
    select
        cold_centroids.*,
        false as is_warm_started
    from cold_centroids
    left join warm_sources
        on cold_centroids.source_system = warm_sources.source_system
    where warm_sources.source_system is null
),

warm_starts as (
    select distinct
        source_system,
        is_warm_started
    from initial_centroids
),

{{ kmeans_lloyd('lloyd_steps', 'features', 'initial_centroids', k, var('kmeans_max_iterations') | int) }},

final_centroids as (
    select distinct on (source_system)
        source_system,
        k,
        iteration as iterations,
        is_converged,
        {{ kmeans_centroid_names(k) }}
    from lloyd_steps
    order by source_system asc, iteration desc
),

assigned as (
    {{ kmeans_nearest(
        [
            'features.source_system', 'features.customer_id', 'features.currency_code', 'features.as_of_date',
            'features.rfm_segment', 'features.recency_z', 'features.frequency_z', 'features.monetary_z',
            'final_centroids.k', 'final_centroids.iterations', 'final_centroids.is_converged',
            'warm_starts.is_warm_started',
        ],
        'features inner join final_centroids on features.source_system = final_centroids.source_system'
        ~ ' inner join warm_starts on features.source_system = warm_starts.source_system',
        'final_centroids',
        k
    ) }}
),

final as (
    select
        source_system,
        customer_id,
        currency_code,
        as_of_date,
        rfm_segment,
        cast(k as integer) as k,
        cast(cluster_id as integer) as cluster_id,
        cast(sqrt(squared_distance) as numeric(18, 6)) as distance_to_centroid,
        cast(recency_z as numeric(18, 6)) as recency_z,
        cast(frequency_z as numeric(18, 6)) as frequency_z,
        cast(monetary_z as numeric(18, 6)) as monetary_z,
        cast(iterations as integer) as iterations,
        is_converged,
        is_warm_started
    from assigned
)

select * from final
