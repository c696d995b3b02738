{#-
    RFM score (1 to `buckets`) of one metric: a rank-based quantile over the
    metric's values within `partition_by`.

        score = 1 + floor(buckets * (rank - 1) / customers)

    `rank` is rank() over the value (ties share the lowest rank of their
    group), so equal values always get the same score, and the result does not
    depend on row order. A value held by a large group gets the score of the
    group's first position: when more than 1/buckets of the customers have a
    single order, all of them get F score 1 and the next scores start above
    it (some scores may then be unused). `higher_is_better=false` inverts the
    order (recency: the fewest days since the last purchase score highest).

    Used by customer_rfm and customer_segment_history, so the current and the
    historical scores are computed the same way.
-#}
{% macro rfm_score(value, partition_by, higher_is_better=true, buckets=5) -%}
    {%- set window -%}
        partition by {{ partition_by | join(', ') }}
    {%- endset -%}
    cast(
        1 + floor(
            {{ buckets }} * (rank() over ({{ window }} order by {{ value }} {{ 'asc' if higher_is_better else 'desc' }}) - 1)
            / {{ count_as_number('count(*) over (' ~ window ~ ')') }}
        ) as integer
    )
{%- endmacro %}

{#- The three RFM score columns (r_score, f_score, m_score) of rows holding
    recency_days, frequency and monetary, scored per source and as-of date. -#}
{% macro rfm_scores() -%}
    {{ rfm_score('recency_days', ['source_system', 'as_of_date'], higher_is_better=false) }} as r_score,
    {{ rfm_score('frequency', ['source_system', 'as_of_date']) }} as f_score,
    {{ rfm_score('monetary', ['source_system', 'as_of_date']) }} as m_score
{%- endmacro %}

{#- The end every RFM model shares, as three CTEs to follow the model's own
    (the caller writes the comma before and after): `rfm_recency` adds
    recency_days (days from last_purchase_date to as_of_date), `rfm_scored`
    the three scores, `rfm_segmented` the score code and the segment of the
    `segment_map` CTE. `customer_values` names a CTE with one row per customer
    and as-of date holding source_system, as_of_date, last_purchase_date,
    frequency and monetary; its other columns pass through. -#}
{% macro rfm_segmented_ctes(customer_values, segment_map='segment_map') -%}
    rfm_recency as (
        select
            *,
            cast({{ dbt.datediff('last_purchase_date', 'as_of_date', 'day') }} as integer) as recency_days
        from {{ customer_values }}
    ),

    rfm_scored as (
        select
            *,
            {{ rfm_scores() }}
        from rfm_recency
    ),

    rfm_segmented as (
        select
            rfm_scored.*,
            {{ segment_map }}.rfm_score,
            {{ segment_map }}.rfm_segment
        from rfm_scored
        left join {{ segment_map }}
            on
                rfm_scored.r_score = {{ segment_map }}.r_score
                and rfm_scored.f_score = {{ segment_map }}.f_score
                and rfm_scored.m_score = {{ segment_map }}.m_score
    )
{%- endmacro %}

{#- The RFM columns of a row of `rfm_segmented`, in the marts' order. -#}
{% macro rfm_columns() -%}
    first_purchase_date,
    last_purchase_date,
    recency_days,
    frequency,
    cast(monetary as numeric(18, 3)) as monetary,
    r_score,
    f_score,
    m_score,
    rfm_score,
    rfm_segment
{%- endmacro %}
