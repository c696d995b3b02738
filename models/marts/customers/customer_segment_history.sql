{#-
    Incremental by as-of month: input_fingerprint hashes everything a month's
    segments depend on (the customers' activity of every earlier month and the
    segment map). A run builds the as-of months that are new or whose
    fingerprint changed (a late or superseding load changes every later month)
    and replaces them whole; the post-hook drops months that no longer exist (an
    earlier as_of_date, rfm_history_months).
-#}
{{
    config(
        materialized='incremental',
        unique_key=['source_system', 'as_of_date'],
        indexes=[
            {'columns': ['source_system', 'as_of_date', 'customer_id'], 'unique': true},
        ],
        post_hook=[
            "delete from {{ this }} as history
            where not exists (
                select 1 from {{ ref('int_rfm_as_of_months_enumerated') }} as months
                where months.source_system = history.source_system
                    and months.as_of_date = history.as_of_date
            )",
        ],
    )
}}

with

as_of_months as (
    select * from {{ ref('int_rfm_as_of_months_enumerated') }}
),

monthly_activity as (
    select * from {{ ref('int_customer_months_aggregated') }}
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

activity_hashes as (
    -- a 64-bit hash of every customer-month of activity
    select
        source_system,
        order_month,
        cast(
            cast(
                'x' || left(md5(concat_ws(
                    '|', customer_id, purchase_count, month_first_purchase_date, month_last_purchase_date, net_amount
                )), 16) as bit(64)
            ) as bigint
        ) as activity_hash
    from monthly_activity
),

month_hashes as (
    -- summed per month: an order-independent fingerprint of the month
    select
        source_system,
        order_month,
        count(*) as activity_rows,
        sum(cast(activity_hash as numeric)) as activity_hash
    from activity_hashes
    group by source_system, order_month
),

segment_map_hash as (
    select
        md5(
            string_agg(concat_ws('|', rfm_score, r_score, f_score, m_score, rfm_segment), ',' order by rfm_score)
        ) as map_hash
    from segment_map
),

month_fingerprints as (
    select
        as_of_months.source_system,
        as_of_months.as_of_date,
        md5(concat_ws(
            '|',
            sum(month_hashes.activity_rows),
            sum(month_hashes.activity_hash),
            max(segment_map_hash.map_hash)
        )) as input_fingerprint
    from as_of_months
    cross join segment_map_hash
    left join month_hashes
        on
            as_of_months.source_system = month_hashes.source_system
            and as_of_months.as_of_date > month_hashes.order_month
    group by as_of_months.source_system, as_of_months.as_of_date
),

months_to_build as (
    select * from month_fingerprints
    {% if is_incremental() -%}
        where not exists (
            select 1 from {{ this }} as built
            where
                built.source_system = month_fingerprints.source_system
                and built.as_of_date = month_fingerprints.as_of_date
                and built.input_fingerprint = month_fingerprints.input_fingerprint
        )
    {%- endif %}
),

customer_states as (
    -- everything each customer did before the as-of date
    select
        months_to_build.source_system,
        monthly_activity.customer_id,
        months_to_build.as_of_date,
        months_to_build.input_fingerprint,
        min(monthly_activity.month_first_purchase_date) as first_purchase_date,
        max(monthly_activity.month_last_purchase_date) as last_purchase_date,
        cast(sum(monthly_activity.purchase_count) as integer) as frequency,
        sum(monthly_activity.net_amount) as monetary
    from months_to_build
    inner join monthly_activity
        on
            months_to_build.source_system = monthly_activity.source_system
            and months_to_build.as_of_date > monthly_activity.order_month
    group by
        months_to_build.source_system,
        monthly_activity.customer_id,
        months_to_build.as_of_date,
        months_to_build.input_fingerprint
    having sum(monthly_activity.purchase_count) > 0
),

{{ rfm_segmented_ctes('customer_states') }},

final as (
    select
        source_system,
        customer_id,
        as_of_date,
        {{ rfm_columns() }},
        input_fingerprint
    from rfm_segmented
)

select * from final
