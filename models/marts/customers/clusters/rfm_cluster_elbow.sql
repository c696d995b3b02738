-- The elbow curve of k-means on RFM: for every source and every k of the
-- elbow range, the within-cluster sum of squares (WSS) and the silhouette,
-- and the k the knee rule picks. Same features, initialisation and Lloyd
-- iterations as customer_clusters (macros/clusters/kmeans.sql), on a
-- deterministic sample: the kmeans_elbow_sample_size customers of each source
-- with the lowest md5(customer_id) (all of them in a smaller source), with
-- the z-scores of the whole source.
-- When it runs: the elbow guides the choice of k, it is not a daily figure,
-- and seven k-means runs cost more than the nightly build. So a daily build
-- computes it only for a source that has none yet; a full refresh, or
-- `--vars '{kmeans_elbow_refresh: always}'`, recomputes every source. as_of_date
-- says which data each source's curve is from.
{{
    config(
        materialized='incremental',
        unique_key=['source_system', 'k'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
{%- set k_values = kmeans_elbow_k_values() %}
{%- set k_min = k_values | min %}
{%- set k_max = k_values | max %}
{%- set only_new_sources = is_incremental() and var('kmeans_elbow_refresh') != 'always' %}

with recursive

standardised as (
    select * from {{ ref('int_customer_features_standardised') }}
),

-- the sources whose curve stays as it is
computed_sources as (
    {% if only_new_sources %}
        select distinct source_system
        from {{ this }}
    {% else %}
        select source_system
        from standardised
        where false
    {% endif %}
),

sample_ranked as (
    select
        *,
        row_number() over (
            partition by source_system
            order by md5(customer_id) asc, customer_id collate "C" asc
        ) as elbow_sample_rank
    from standardised
),

features as (
    select sample_ranked.*
    from sample_ranked
    left join computed_sources
        on sample_ranked.source_system = computed_sources.source_system
    where
        computed_sources.source_system is null
        and sample_ranked.elbow_sample_rank <= {{ var('kmeans_elbow_sample_size') | int }}
),

initial_centroids as (
    {{ kmeans_initial_centroids('features', k_values) }}
),

{{ kmeans_lloyd('lloyd_steps', 'features', 'initial_centroids', k_max, var('kmeans_max_iterations') | int) }},

final_centroids as (
    select distinct on (source_system, k)
        source_system,
        k,
        iteration as iterations,
        is_converged,
        {{ kmeans_centroid_names(k_max) }}
    from lloyd_steps
    order by source_system asc, k asc, iteration desc
),

assigned as (
    {{ kmeans_nearest(
        [
            'features.source_system', 'features.customer_id', 'final_centroids.k',
        ],
        'features inner join final_centroids on features.source_system = final_centroids.source_system',
        'final_centroids',
        k_max
    ) }}
),

within_clusters as (
    select
        source_system,
        k,
        count(*) as customers,
        count(distinct cluster_id) as clusters,
        sum(squared_distance) as within_cluster_sum_of_squares
    from assigned
    group by source_system, k
),

-- the silhouette sample: the customers with the lowest md5(customer_id)
silhouette_sample as (
    select
        source_system,
        customer_id,
        sample_id,
        recency_z,
        frequency_z,
        monetary_z
    from (
        select
            source_system,
            customer_id,
            recency_z,
            frequency_z,
            monetary_z,
            row_number() over (
                partition by source_system
                order by md5(customer_id) asc, customer_id collate "C" asc
            ) as sample_id
        from features
    ) as ranked
    where sample_id <= {{ var('kmeans_silhouette_sample_size') | int }}
),

sample_sizes as (
    select
        source_system,
        count(*) as sample_customers
    from silhouette_sample
    group by source_system
),

-- each sample customer's clusters in all the runs (array by k); customers
-- with the same clusters in every run share a label set
sample_labels as (
    select
        silhouette_sample.source_system,
        silhouette_sample.sample_id,
        silhouette_sample.recency_z,
        silhouette_sample.frequency_z,
        silhouette_sample.monetary_z,
        array_agg(assigned.cluster_id order by assigned.k) as cluster_ids
    from silhouette_sample
    inner join assigned
        on
            silhouette_sample.source_system = assigned.source_system
            and silhouette_sample.customer_id = assigned.customer_id
    group by
        silhouette_sample.source_system,
        silhouette_sample.sample_id,
        silhouette_sample.recency_z,
        silhouette_sample.frequency_z,
        silhouette_sample.monetary_z
),

sample_points as (
    select
        *,
        dense_rank() over (partition by source_system order by cluster_ids) as label_set_id
    from sample_labels
),

label_sets as (
    select distinct
        source_system,
        label_set_id,
        cluster_ids
    from sample_points
),

-- distances from each sample customer to the others, summed per label set
-- of the other customer: one pass over the pairs serves every k
pair_sums as (
    select
        one.source_system,
        one.sample_id,
        one.cluster_ids as own_cluster_ids,
        other.label_set_id,
        sum(
            sqrt(
                (one.recency_z - other.recency_z) * (one.recency_z - other.recency_z)
                + (one.frequency_z - other.frequency_z) * (one.frequency_z - other.frequency_z)
                + (one.monetary_z - other.monetary_z) * (one.monetary_z - other.monetary_z)
            )
        ) as distance_sum,
        count(*) as pairs
    from sample_points as one
    inner join sample_points as other
        on
            one.source_system = other.source_system
            and one.sample_id <> other.sample_id
    group by one.source_system, one.sample_id, one.cluster_ids, other.label_set_id
),

-- mean distance from each sample customer to the other sample customers of
-- each cluster of each run (run_position 1 = the smallest k)
cluster_mean_distances as (
    select
        pair_sums.source_system,
        pair_sums.sample_id,
        labels.run_position,
        pair_sums.own_cluster_ids[labels.run_position] as own_cluster_id,
        labels.cluster_id,
        sum(pair_sums.distance_sum) / sum(pair_sums.pairs) as mean_distance
    from pair_sums
    inner join label_sets
        on
            pair_sums.source_system = label_sets.source_system
            and pair_sums.label_set_id = label_sets.label_set_id
    cross join lateral unnest(label_sets.cluster_ids) with ordinality as labels (cluster_id, run_position)
    group by
        pair_sums.source_system,
        pair_sums.sample_id,
        labels.run_position,
        pair_sums.own_cluster_ids[labels.run_position],
        labels.cluster_id
),

-- a = mean distance to the own cluster (null: alone in it), b = to the nearest other cluster
silhouette_points as (
    select
        source_system,
        sample_id,
        run_position,
        own_cluster_id,
        max(mean_distance) filter (where cluster_id = own_cluster_id) as own_distance,
        min(mean_distance) filter (where cluster_id <> own_cluster_id) as other_distance
    from cluster_mean_distances
    group by source_system, sample_id, run_position, own_cluster_id
),

-- the silhouette needs 2 to (sample size - 1) clusters among the sample
silhouettes as (
    select
        source_system,
        {{ k_min }} + run_position - 1 as k,
        count(*) as sample_customers,
        case
            when count(distinct own_cluster_id) >= 2 and count(distinct own_cluster_id) < count(*)
                then avg(
                    case
                        when own_distance is null then 0
                        else coalesce(
                            (other_distance - own_distance) / nullif(greatest(own_distance, other_distance), 0),
                            0
                        )
                    end
                )
        end as silhouette
    from silhouette_points
    group by source_system, run_position
),

-- knee: on both axes scaled to [0, 1], how far the curve lies below the
-- straight line from its first point (k_min) to its last (k_max)
curve as (
    select
        within_clusters.*,
        first_value(within_clusters.within_cluster_sum_of_squares) over source_curve as first_wss,
        last_value(within_clusters.within_cluster_sum_of_squares) over source_curve as last_wss,
        max(within_clusters.within_cluster_sum_of_squares) over source_curve
        - min(within_clusters.within_cluster_sum_of_squares) over source_curve as wss_range
    from within_clusters
    window source_curve as (
        partition by source_system order by k asc rows between unbounded preceding and unbounded following
    )
),

knee as (
    select
        *,
        (
            first_wss + (last_wss - first_wss) * (k - {{ k_min }}) / {{ [k_max - k_min, 1] | max }}.0
            - within_cluster_sum_of_squares
        ) / nullif(wss_range, 0) as knee_distance
    from curve
),

elbow as (
    select distinct on (source_system)
        source_system,
        k as elbow_k
    from knee
    where knee_distance > 0
    order by source_system asc, knee_distance desc, k asc
),

sources as (
    select
        source_system,
        min(currency_code) as currency_code,
        min(as_of_date) as as_of_date
    from features
    group by source_system
),

final as (
    select
        knee.source_system,
        sources.currency_code,
        sources.as_of_date,
        cast(knee.k as integer) as k,
        knee.customers,
        knee.clusters,
        cast(final_centroids.iterations as integer) as iterations,
        final_centroids.is_converged,
        cast(knee.within_cluster_sum_of_squares as numeric(24, 6)) as within_cluster_sum_of_squares,
        cast(silhouettes.silhouette as numeric(18, 6)) as silhouette,
        cast(sample_sizes.sample_customers as integer) as silhouette_sample_size,
        cast(knee.knee_distance as numeric(18, 6)) as knee_distance,
        cast(elbow.elbow_k as integer) as elbow_k,
        coalesce(knee.k = elbow.elbow_k, false) as is_elbow_k
    from knee
    inner join sources
        on knee.source_system = sources.source_system
    inner join final_centroids
        on
            knee.source_system = final_centroids.source_system
            and knee.k = final_centroids.k
    left join silhouettes
        on
            knee.source_system = silhouettes.source_system
            and knee.k = silhouettes.k
    inner join sample_sizes
        on knee.source_system = sample_sizes.source_system
    left join elbow
        on knee.source_system = elbow.source_system
)

select * from final
