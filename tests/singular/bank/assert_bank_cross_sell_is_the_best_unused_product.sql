-- No product ranked above the suggestion in the reference segment may be
-- unused by the client, and a client without a suggestion must have used every
-- product of the ranking. Checks the whole ranking, not only the top
-- usage_count + 1 positions the model looks at. Returns offenders.
with

cross_sell as (
    select * from {{ ref('client_cross_sell') }}
),

popularity as (
    select * from {{ ref('int_segment_products_ranked') }}
),

client_products as (
    select * from {{ ref('int_client_products_aggregated') }}
),

better_unused as (
    select
        cross_sell.client_id,
        popularity.product_name
    from cross_sell
    inner join popularity
        on
            cross_sell.reference_segment_code = popularity.segment_code
            and (
                cross_sell.suggested_product_rank is null
                or cross_sell.suggested_product_rank > popularity.popularity_rank
            )
    left join client_products
        on
            cross_sell.client_id = client_products.client_id
            and popularity.product_name = client_products.product_name
    where client_products.client_id is null
),

final as (
    select * from better_unused
)

select * from final
