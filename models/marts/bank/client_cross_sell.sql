{%- set reference_segment = var('bank_no_products_reference_segment') %}

with

clients as (
    select * from {{ ref('int_clients_segmented') }}
),

client_products as (
    select * from {{ ref('int_client_products_aggregated') }}
),

popularity as (
    select * from {{ ref('int_segment_products_ranked') }}
),

segments as (
    select * from {{ ref('bank_segments') }}
),

clients_with_reference as (
    select
        client_id,
        client_name,
        usage_count,
        segment_code,
        segment_name,
        case
            when usage_count = 0 then '{{ reference_segment }}'
            else segment_code
        end as reference_segment_code
    from clients
),

candidates as (
    -- A client has used usage_count products, so among the top usage_count + 1
    -- of the ranking at least one is unused: no need to look further down.
    select
        clients_with_reference.client_id,
        popularity.product_name,
        popularity.product_code,
        popularity.popularity_rank,
        popularity.clients_using_product,
        popularity.share_of_segment_clients
    from clients_with_reference
    inner join popularity
        on
            clients_with_reference.reference_segment_code = popularity.segment_code
            and popularity.popularity_rank <= clients_with_reference.usage_count + 1
    left join client_products
        on
            clients_with_reference.client_id = client_products.client_id
            and popularity.product_name = client_products.product_name
    where client_products.client_id is null
),

best_candidate as (
    select
        *,
        row_number() over (partition by client_id order by popularity_rank) as candidate_order
    from candidates
),

final as (
    select
        clients_with_reference.client_id,
        clients_with_reference.client_name,
        clients_with_reference.usage_count,
        clients_with_reference.segment_name as client_segment,
        clients_with_reference.segment_code as client_segment_code,
        clients_with_reference.reference_segment_code,
        reference_segment.segment_name as reference_segment,
        best_candidate.product_name as suggested_product_name,
        best_candidate.product_code as suggested_product_code,
        best_candidate.popularity_rank as suggested_product_rank,
        best_candidate.clients_using_product as reference_segment_clients_using_product,
        best_candidate.share_of_segment_clients as reference_segment_share,
        best_candidate.client_id is not null as has_suggestion,
        case
            when best_candidate.client_id is null then 'uses_all_products'
            when clients_with_reference.usage_count = 0 then 'top_product_of_reference_segment'
            else 'top_unused_product_in_segment'
        end as suggestion_reason_code,
        case
            when best_candidate.client_id is null
                then 'Клиент уже пользуется всеми продуктами банка'
            else concat(
                case
                    when clients_with_reference.usage_count = 0
                        then 'Самый популярный продукт в сегменте «'
                    else 'Самый популярный неиспользуемый продукт в сегменте «'
                end,
                reference_segment.segment_name,
                '»: им пользуются ',
                coalesce(
                    replace({{ format_one_decimal('100 * best_candidate.share_of_segment_clients') }}, '.', ','), '0'
                ),
                '% клиентов сегмента (',
                best_candidate.clients_using_product,
                ')'
            )
        end as suggestion_reason
    from clients_with_reference
    left join best_candidate
        on
            clients_with_reference.client_id = best_candidate.client_id
            and best_candidate.candidate_order = 1
    left join segments as reference_segment
        on clients_with_reference.reference_segment_code = reference_segment.segment_code
)

select * from final
