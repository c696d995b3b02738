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
            / cast(count(*) over ({{ window }}) as numeric)
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
