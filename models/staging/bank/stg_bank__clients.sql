with

source as (
    select * from {{ source('bank', 'bank_clients') }}
),

renamed as (
    select
        load_id,
        line_number,
        client_id::bigint as client_id,
        nullif(btrim(regexp_replace(full_name, '\s+', ' ', 'g')), '') as client_name,
        income::numeric as income
    from source
)

select * from renamed
