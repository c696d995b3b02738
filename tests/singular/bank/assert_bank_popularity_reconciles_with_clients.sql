-- Per segment, product_popularity_by_segment adds up to client_segments:
-- the uses of all products = the clients' total uses, the client-product pairs
-- = the sum of usage_count, and segment_clients = the segment's clients.
-- Returns the segments that disagree.
with

popularity as (
    select
        client_segment_code,
        sum(product_usages) as product_usages,
        sum(clients_using_product) as client_product_pairs,
        max(segment_clients) as segment_clients
    from {{ ref('product_popularity_by_segment') }}
    group by client_segment_code
),

clients as (
    select
        client_segment_code,
        sum(total_usages) as total_usages,
        sum(usage_count) as usage_count,
        count(*) as clients
    from {{ ref('client_segments') }}
    group by client_segment_code
),

final as (
    select
        popularity.client_segment_code,
        popularity.product_usages,
        clients.total_usages,
        popularity.client_product_pairs,
        clients.usage_count,
        popularity.segment_clients,
        clients.clients
    from popularity
    left join clients
        on popularity.client_segment_code = clients.client_segment_code
    where
        popularity.product_usages <> coalesce(clients.total_usages, 0)
        or popularity.client_product_pairs <> coalesce(clients.usage_count, 0)
        or popularity.segment_clients <> coalesce(clients.clients, 0)
)

select * from final
