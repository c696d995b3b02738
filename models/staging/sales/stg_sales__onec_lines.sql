with

source as (
    select * from {{ source('sales', 'sales_onec_lines') }}
),

renamed as (
    select
        load_id,
        line_number,
        btrim(sale_id) as order_id,
        cast(date as timestamp) as ordered_at,
        nullif(btrim(order_id), '') as customer_order_id,
        cast(order_date as timestamp) as customer_ordered_at,
        nullif(btrim(buyer), '') as customer_id,
        nullif(btrim(contractor), '') as contractor_name,
        nullif(btrim(site_id), '') as site_id,
        btrim(product) as product_name,
        nullif(btrim(feature), '') as product_feature,
        cast(quantity as {{ type_number() }}) as quantity,
        cast(sum as {{ type_number() }}) as line_amount,
        nullif(btrim(address), '') as delivery_address,
        cast(cash_flow_type as {{ type_text() }}) = 'возврат' as is_return
    from source
)

select * from renamed
