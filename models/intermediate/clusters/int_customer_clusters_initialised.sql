-- The initial centroids of every k the cluster marts run (kmeans_k and the
-- elbow range), from the same macro they start from.
{%- set k_values = (kmeans_elbow_k_values() + [var('kmeans_k') | int]) | unique | sort %}

with

features as (
    select * from {{ ref('int_customer_features_standardised') }}
),

initial_centroids as (
    {{ kmeans_initial_centroids('features', k_values) }}
),

final as (
    select
        source_system,
        cast(k as integer) as k,
        cast(cluster_id as integer) as cluster_id,
        recency_z,
        frequency_z,
        monetary_z,
        customers
    from initial_centroids
)

select * from final
