with

source as (
    select * from {{ source('bank', 'bank_product_usage') }}
),

renamed as (
    select
        load_id,
        line_number,
        usage_id::bigint as usage_id,
        client_id::bigint as client_id,
        btrim(product_name) as product_name,
        usage_date::date as usage_date
    from source
)

select * from renamed
