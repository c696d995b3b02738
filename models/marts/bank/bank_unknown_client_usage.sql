with

usage as (
    select * from {{ ref('int_product_usage_deduplicated') }}
),

final as (
    select
        usage_id,
        client_id,
        product_name,
        product_code,
        usage_date,
        load_id,
        line_number
    from usage
    where not is_known_client
)

select * from final
