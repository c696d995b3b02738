-- One row per client of the client list and product the client has used:
-- the first and last use and how many uses, with the client's segment and
-- the product's catalogue group. With client_segments (the pie, the client
-- card) and client_cross_sell (the suggestion) it is everything the bank
-- Power BI page needs, so BI never reads staging.
with

client_products as (
    select * from {{ ref('int_client_products_aggregated') }}
),

clients as (
    select * from {{ ref('client_segments') }}
),

products as (
    select * from {{ ref('bank_products') }}
),

final as (
    select
        client_products.client_id,
        client_products.product_name,
        client_products.product_code,
        products.product_category,
        products.product_category_name,
        clients.client_segment_code,
        clients.client_segment,
        cast(client_products.usages as integer) as usage_count,
        client_products.first_usage_date,
        client_products.last_usage_date,
        clients.as_of_date,
        cast(
            {{ dbt.datediff('client_products.last_usage_date', 'clients.as_of_date', 'day') }} as integer
        ) as days_since_last_usage
    from client_products
    inner join clients
        on client_products.client_id = clients.client_id
    left join products
        on client_products.product_code = products.product_code
)

select * from final
