{{
    config(
        materialized='table',
    )
}}

with

usage as (
    select * from {{ ref('int_product_usage_deduplicated') }}
    where is_known_client
),

aggregated as (
    select
        client_id,
        product_name,
        product_code,
        count(*) as usages,
        min(usage_date) as first_usage_date,
        max(usage_date) as last_usage_date
    from usage
    group by client_id, product_name, product_code
),

final as (
    select * from aggregated
)

select * from final
