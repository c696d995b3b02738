with

source as (
    select * from {{ source('sales', 'sales_uci_lines') }}
),

renamed as (
    select
        load_id,
        line_number,
        btrim(invoice_no) as order_id,
        upper(btrim(stock_code)) as product_id,
        nullif(btrim(description), '') as product_name,
        cast(quantity as integer) as quantity,
        cast(invoice_date as timestamp) as ordered_at,
        cast(unit_price as {{ type_number() }}) as unit_price,
        cast(cast(customer_id as bigint) as {{ type_text() }}) as customer_id,
        nullif(btrim(country), '') as country
    from source
)

select * from renamed
