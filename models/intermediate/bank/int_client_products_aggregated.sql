-- One row per client and product the client has used (known clients only):
-- repeated use of a product is one row, with the number of uses and the
-- first and last date.
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
