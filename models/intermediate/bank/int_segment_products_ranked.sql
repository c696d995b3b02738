{{
    config(
        materialized='table',
    )
}}

with

clients as (
    select * from {{ ref('int_clients_segmented') }}
),

client_products as (
    select * from {{ ref('int_client_products_aggregated') }}
),

catalogue as (
    select * from {{ ref('bank_products') }}
),

segments as (
    select * from {{ ref('bank_segments') }}
),

products as (
    select
        product_name,
        product_code
    from catalogue
    union
    select distinct
        product_name,
        product_code
    from client_products
),

segment_sizes as (
    select
        segment_code,
        count(*) as segment_clients
    from clients
    group by segment_code
),

segment_product_use as (
    select
        clients.segment_code,
        client_products.product_name,
        count(*) as clients_using_product,
        sum(client_products.usages) as product_usages
    from client_products
    inner join clients
        on client_products.client_id = clients.client_id
    group by clients.segment_code, client_products.product_name
),

grid as (
    select
        segments.segment_code,
        products.product_name,
        products.product_code,
        coalesce(segment_sizes.segment_clients, 0)::bigint as segment_clients,
        coalesce(segment_product_use.clients_using_product, 0)::bigint as clients_using_product,
        coalesce(segment_product_use.product_usages, 0)::bigint as product_usages
    from segments
    cross join products
    left join segment_sizes
        on segments.segment_code = segment_sizes.segment_code
    left join segment_product_use
        on
            segments.segment_code = segment_product_use.segment_code
            and products.product_name = segment_product_use.product_name
),

final as (
    select
        segment_code,
        product_name,
        product_code,
        segment_clients,
        clients_using_product,
        product_usages,
        round(
            {{ count_as_number('clients_using_product') }} / nullif(segment_clients, 0), 6
        )::numeric(7, 6) as share_of_segment_clients,
        row_number() over (
            partition by segment_code
            order by clients_using_product desc, product_usages desc, {{ collate_c('product_name') }}
        )::integer as popularity_rank
    from grid
)

select * from final
