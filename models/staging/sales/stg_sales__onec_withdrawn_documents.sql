with

source as (
    select * from {{ source('sales', 'onec_withdrawn_documents') }}
),

renamed as (
    select
        load_id,
        btrim(sale_id) as order_id,
        document_ref,
        reason as withdrawal_reason
    from source
)

select * from renamed
