with

source as (
    select * from {{ source('bank', 'bank_clients') }}
),

renamed as (
    select
        load_id,
        line_number,
        client_id::bigint as client_id,
        nullif(btrim({{ regexp_replace_all('full_name', '\s+', ' ') }}), '') as client_name,
        cast(income as {{ type_number() }}) as income
    from source
)

select * from renamed
