with

source as (
    select * from {{ source('loader', 'load_quarantine') }}
),

renamed as (
    select
        load_id,
        line_number,
        reason as quarantine_reason,
        raw_line
    from source
)

select * from renamed
