-- The k-means cluster (k = var kmeans_k) of every customer of customer_rfm,
-- per source, on the standardised log RFM features: the cluster, the
-- Euclidean distance to its centroid and the Lloyd steps the source needed.
-- Initialisation, iterations and tie breaks: macros/clusters/kmeans.sql.
{%- set k = var('kmeans_k') | int %}

with recursive

features as (
    select * from {{ ref('int_customer_features_standardised') }}
),

initial_centroids as (
    {{ kmeans_initial_centroids('features', [k]) }}
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
        ],
        'features inner join final_centroids on features.source_system = final_centroids.source_system',
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
        is_converged
    from assigned
)

select * from final
