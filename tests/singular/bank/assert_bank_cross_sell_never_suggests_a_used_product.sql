-- A suggestion must be a product the client has not used. Returns offenders.
with

cross_sell as (
    select * from {{ ref('client_cross_sell') }}
),

client_products as (
    select * from {{ ref('int_client_products_aggregated') }}
),

final as (
    select
        cross_sell.client_id,
        cross_sell.suggested_product_name
    from cross_sell
    inner join client_products
        on
            cross_sell.client_id = client_products.client_id
            and cross_sell.suggested_product_name = client_products.product_name
)

select * from final
