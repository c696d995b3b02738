{#-
    k-means on the standardised RFM features (recency_z, frequency_z,
    monetary_z) of int_customer_features_standardised, per source_system.
    Used by customer_clusters (k = kmeans_k), rfm_cluster_elbow (every k of
    the elbow range) and int_customer_clusters_initialised (the initial
    centroids, for audit and the scikit-learn cross-check).

    Initialisation (no randomness, independent of row order): the customers
    of a source are ordered by the value score frequency_z + monetary_z -
    recency_z, highest first, ties by customer_id (collation "C"), and cut
    into k_eff = least(k, customers) consecutive groups of equal size (+-1):
    customer number n (1-based) of N goes to group floor((n - 1) * k_eff / N) + 1.
    The initial centroid of cluster j is the mean of group j, so cluster 1
    starts as the most valuable group and cluster k_eff as the least valuable.

    Lloyd iterations: assign every customer to its nearest centroid (squared
    Euclidean distance; a tie goes to the lowest cluster_id), move every
    centroid to the mean of its customers (a cluster left without customers
    keeps its centroid), repeat. Only the centroids travel through the
    recursion (one row per source and k, the k centroids as arrays); the
    assignment is recomputed from them in each step. A step changed no
    assignment when every cluster kept its size and the XOR of its customers'
    64-bit hashes; the run stops there, or after max_iterations steps.
-#}

{#- Population standard deviation of a log feature; null when it is rounding noise (<= 1e-9). -#}
{% macro kmeans_spread(column) %}
    case when stddev_pop({{ column }}) > 1e-9 then stddev_pop({{ column }}) end
{% endmacro %}


{#- The k values a model runs: kmeans_k, or the elbow range. -#}
{% macro kmeans_elbow_k_values() %}
    {{ return(range(var('kmeans_elbow_k_min') | int, (var('kmeans_elbow_k_max') | int) + 1) | list) }}
{% endmacro %}


{#- Initial centroids: one row per (source_system, k, cluster_id). -#}
{% macro kmeans_initial_centroids(features, k_values) %}
    select
        grouped.source_system,
        grouped.k,
        grouped.cluster_id,
        avg(grouped.recency_z) as recency_z,
        avg(grouped.frequency_z) as frequency_z,
        avg(grouped.monetary_z) as monetary_z,
        count(*) as customers
    from (
        select
            ranked.source_system,
            ks.k,
            ranked.recency_z,
            ranked.frequency_z,
            ranked.monetary_z,
            ((ranked.value_rank - 1) * least(ks.k, ranked.source_customers)) / ranked.source_customers
            + 1 as cluster_id
        from (
            select
                source_system,
                recency_z,
                frequency_z,
                monetary_z,
                row_number() over (
                    partition by source_system
                    order by frequency_z + monetary_z - recency_z desc, customer_id collate "C" asc
                ) as value_rank,
                count(*) over (partition by source_system) as source_customers
            from {{ features }}
        ) as ranked
        cross join (
            values {% for k in k_values %}({{ k }}){% if not loop.last %}, {% endif %}{% endfor %}
        ) as ks (k)
    ) as grouped
    group by grouped.source_system, grouped.k, grouped.cluster_id
{% endmacro %}


{#-
    Every point of points_from (a FROM clause whose rows have recency_z,
    frequency_z and monetary_z, plus the centroids of `centroids` as scalar
    columns, see kmeans_centroid_columns) with
    its nearest cluster: columns `columns` (expressions, `x as name` or
    `alias.name`), squared_distance, cluster_id.
    The distances and their minimum are computed once per point (offset 0
    keeps the planner from inlining them into the comparisons); clusters
    beyond a run's k have
    null centroids, hence null distances, which least() ignores.
-#}
{% macro kmeans_nearest(columns, points_from, centroids, k_max) %}
    {%- set clusters = range(1, ([k_max | int, 1] | max) + 1) | list -%}
    {%- set distances -%}
        {% for j in clusters %}distance_{{ j }}{% if not loop.last %}, {% endif %}{% endfor %}
    {%- endset -%}
    {%- set outer_columns -%}
        {% for column in columns %}{{ column.split(' as ')[-1].split('.')[-1] }}, {% endfor %}
    {%- endset -%}
    {%- set inner_columns -%}
        {% for column in columns %}{{ column }}, {% endfor %}
    {%- endset -%}
    {%- set nearest_cluster -%}
        {% for j in clusters %} when distance_{{ j }} = squared_distance then {{ j }}{% endfor %}
    {%- endset -%}
    {%- set distance_columns -%}
        {% for j in clusters -%}
            {{ kmeans_squared_distance(centroids, j) }} as distance_{{ j }}{% if not loop.last %}, {% endif %}
        {%- endfor %}
    {%- endset %}
    select
        {{ outer_columns }}
        squared_distance,
        case {{ nearest_cluster }} end as cluster_id
    from (
        select
            *,
            least({{ distances }}) as squared_distance
        from (
            select
                {{ inner_columns }}{{ distance_columns }}
            from {{ points_from }}
            offset 0
        ) as distances
        offset 0
    ) as nearest
{% endmacro %}


{#-
    The centroids of the arrays of `arrays` (centroid_recency_z[j], ...) as
    scalar columns centroid_recency_z_1, ..., centroid_monetary_z_<k_max>
    (null beyond the run's k): the recursion carries both, so a step reads
    plain values instead of subscripting arrays for every customer.
-#}
{% macro kmeans_centroid_columns(arrays, k_max) -%}
    {%- for j in range(1, ([k_max | int, 1] | max) + 1) -%}
        {%- for feature in ['recency_z', 'frequency_z', 'monetary_z'] -%}
            {{ arrays }}.centroid_{{ feature }}[{{ j }}] as centroid_{{ feature }}_{{ j }}
            {%- if not loop.last %}, {% endif -%}
        {%- endfor -%}
        {%- if not loop.last %}, {% endif -%}
    {%- endfor -%}
{%- endmacro %}


{#- The names of those columns, for selecting them again. -#}
{% macro kmeans_centroid_names(k_max) -%}
    {%- for j in range(1, ([k_max | int, 1] | max) + 1) -%}
        centroid_recency_z_{{ j }}, centroid_frequency_z_{{ j }}, centroid_monetary_z_{{ j }}
        {%- if not loop.last %}, {% endif -%}
    {%- endfor -%}
{%- endmacro %}


{#- Squared Euclidean distance from the row's features to centroid j of `centroids`. -#}
{% macro kmeans_squared_distance(centroids, j) -%}
    {%- for feature in ['recency_z', 'frequency_z', 'monetary_z'] -%}
        ({{ feature }} - {{ centroids }}.centroid_{{ feature }}_{{ j }}) * ({{ feature }} - {{ centroids }}.centroid_{{ feature }}_{{ j }})
        {%- if not loop.last %} + {% endif -%}
    {%- endfor -%}
{%- endmacro %}


{#-
    The CTEs `name`_points (the features the steps read: narrow, with each
    customer's hash computed once) and the recursive `name` (the model's
    WITH must be `with recursive`):
    one row per (source_system, k, iteration) with the centroids after that
    many Lloyd steps (iteration 0 = the initial centroids), the cluster sizes
    and hashes of the step's assignment, and is_converged = the step changed
    no assignment.
-#}
{% macro kmeans_lloyd(name, features, initial, k_max, max_iterations) %}
{{ name }}_points as materialized (
    select
        source_system,
        hashtextextended(customer_id, 0) as customer_hash,
        recency_z,
        frequency_z,
        monetary_z
    from {{ features }}
),

{{ name }} as (
    select
        initial_arrays.source_system,
        initial_arrays.k,
        0 as iteration,
        initial_arrays.centroid_recency_z,
        initial_arrays.centroid_frequency_z,
        initial_arrays.centroid_monetary_z,
        {{ kmeans_centroid_columns('initial_arrays', k_max) }},
        cast(null as bigint []) as cluster_sizes,
        cast(null as bigint []) as cluster_hashes,
        false as is_converged
    from (
        select
            source_system,
            k,
            array_agg(recency_z order by cluster_id) as centroid_recency_z,
            array_agg(frequency_z order by cluster_id) as centroid_frequency_z,
            array_agg(monetary_z order by cluster_id) as centroid_monetary_z
        from {{ initial }}
        group by source_system, k
    ) as initial_arrays

    union all

    select
        previous.source_system,
        previous.k,
        previous.iteration + 1 as iteration,
        step.centroid_recency_z,
        step.centroid_frequency_z,
        step.centroid_monetary_z,
        {{ kmeans_centroid_columns('step', k_max) }},
        step.cluster_sizes,
        step.cluster_hashes,
        coalesce(
            step.cluster_sizes = previous.cluster_sizes
            and step.cluster_hashes = previous.cluster_hashes,
            false
        ) as is_converged
    from {{ name }} as previous
    cross join lateral (
        select
            array_agg(
                coalesce(moved.recency_z, previous.centroid_recency_z[clusters.cluster_id])
                order by clusters.cluster_id
            ) as centroid_recency_z,
            array_agg(
                coalesce(moved.frequency_z, previous.centroid_frequency_z[clusters.cluster_id])
                order by clusters.cluster_id
            ) as centroid_frequency_z,
            array_agg(
                coalesce(moved.monetary_z, previous.centroid_monetary_z[clusters.cluster_id])
                order by clusters.cluster_id
            ) as centroid_monetary_z,
            array_agg(coalesce(moved.customers, 0) order by clusters.cluster_id) as cluster_sizes,
            array_agg(coalesce(moved.customer_hashes, 0) order by clusters.cluster_id) as cluster_hashes
        from generate_series(1, cardinality(previous.centroid_recency_z)) as clusters (cluster_id)
        left join (
            select
                assigned.cluster_id,
                sum(assigned.recency_z) / count(*) as recency_z,
                sum(assigned.frequency_z) / count(*) as frequency_z,
                sum(assigned.monetary_z) / count(*) as monetary_z,
                count(*) as customers,
                bit_xor(assigned.customer_hash) as customer_hashes
            from (
                {{ kmeans_nearest(
                    ['points.recency_z', 'points.frequency_z', 'points.monetary_z', 'points.customer_hash'],
                    name ~ '_points as points where points.source_system = previous.source_system',
                    'previous',
                    k_max
                ) }}
            ) as assigned
            group by assigned.cluster_id
        ) as moved
            on clusters.cluster_id = moved.cluster_id
    ) as step
    where not previous.is_converged and previous.iteration < {{ max_iterations }}
)
{% endmacro %}


{#-
    Whether customer_clusters starts from the previous build's clusters: var
    kmeans_warm_start, not a full refresh, and the table exists (`this` is
    none in unit tests).
-#}
{% macro kmeans_warm_start_enabled() %}
    {%- if not execute or this is none or not var('kmeans_warm_start') or flags.FULL_REFRESH -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(adapter.get_relation(this.database, this.schema, this.identifier) is not none) }}
{% endmacro %}
