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
        quantity::integer as quantity,
        invoice_date::timestamp as ordered_at,
        unit_price::numeric as unit_price,
        (customer_id::bigint)::text as customer_id,
        nullif(btrim(country), '') as country
    from source
)

select * from renamed
