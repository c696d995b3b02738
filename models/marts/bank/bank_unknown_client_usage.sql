-- Usage rows (newest load per usage_id) whose client_id is not in the client
-- list. They are left out of every client metric but kept here, so nothing
-- staged is silently lost and the source can be asked about them.
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
