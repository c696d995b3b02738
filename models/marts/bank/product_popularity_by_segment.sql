with

popularity as (
    select * from {{ ref('int_segment_products_ranked') }}
),

segments as (
    select * from {{ ref('bank_segments') }}
),

catalogue as (
    select * from {{ ref('bank_products') }}
),

final as (
    select
        popularity.segment_code as client_segment_code,
        segments.segment_name as client_segment,
        segments.segment_order as client_segment_order,
        popularity.product_name,
        popularity.product_code,
        catalogue.product_category,
        catalogue.product_category_name,
        popularity.segment_clients,
        popularity.clients_using_product,
        popularity.product_usages,
        popularity.share_of_segment_clients,
        popularity.popularity_rank
    from popularity
    inner join segments
        on popularity.segment_code = segments.segment_code
    left join catalogue
        on popularity.product_code = catalogue.product_code
)

select * from final
