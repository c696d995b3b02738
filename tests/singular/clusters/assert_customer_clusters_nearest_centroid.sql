-- In a converged run every customer sits in the cluster whose centroid (the
-- mean of its members, rfm_cluster_summary) is nearest, and
-- distance_to_centroid is the distance to it (z-scores rounded to 6
-- decimals in both models, hence the tolerance).
with

clusters as (
    select * from {{ ref('customer_clusters') }}
),

summary as (
    select * from {{ ref('rfm_cluster_summary') }}
),

distances as (
    select
        clusters.source_system,
        clusters.customer_id,
        clusters.cluster_id,
        clusters.distance_to_centroid,
        summary.cluster_id as centroid_cluster_id,
        sqrt(
            power(clusters.recency_z - summary.centroid_recency_z, 2)
            + power(clusters.frequency_z - summary.centroid_frequency_z, 2)
            + power(clusters.monetary_z - summary.centroid_monetary_z, 2)
        ) as distance
    from clusters
    inner join summary
        on clusters.source_system = summary.source_system
    where clusters.is_converged
),

per_customer as (
    select
        source_system,
        customer_id,
        max(distance_to_centroid) as distance_to_centroid,
        max(distance) filter (where centroid_cluster_id = cluster_id) as own_distance,
        min(distance) filter (where centroid_cluster_id <> cluster_id) as nearest_other_distance
    from distances
    group by source_system, customer_id
)

select * from per_customer
where
    abs(own_distance - distance_to_centroid) > 1e-5
    or own_distance > nearest_other_distance + 1e-5
