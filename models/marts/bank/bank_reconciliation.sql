with

staged_clients as (
    select count(*) as row_count from {{ ref('stg_bank__clients') }}
),

staged_usage as (
    select count(*) as row_count from {{ ref('stg_bank__product_usage') }}
),

deduplicated_clients as (
    select * from {{ ref('int_clients_deduplicated') }}
),

deduplicated_usage as (
    select * from {{ ref('int_product_usage_deduplicated') }}
),

client_segments as (
    select * from {{ ref('client_segments') }}
),

unknown_client_usage as (
    select * from {{ ref('bank_unknown_client_usage') }}
),

statuses as (
    select
        'clients' as entity,
        1 as status_order,
        'in_marts' as row_status,
        count(*) as row_count
    from client_segments
    union all
    select
        'clients' as entity,
        2 as status_order,
        'superseded_duplicate' as row_status,
        coalesce(sum(superseded_row_count), 0) as row_count
    from deduplicated_clients
    union all
    select
        'product_usage' as entity,
        1 as status_order,
        'in_marts' as row_status,
        coalesce(sum(total_usages), 0) as row_count
    from client_segments
    union all
    select
        'product_usage' as entity,
        2 as status_order,
        'superseded_duplicate' as row_status,
        coalesce(sum(superseded_row_count), 0) as row_count
    from deduplicated_usage
    union all
    select
        'product_usage' as entity,
        3 as status_order,
        'unknown_client' as row_status,
        count(*) as row_count
    from unknown_client_usage
),

staged as (
    select
        'clients' as entity,
        row_count
    from staged_clients
    union all
    select
        'product_usage' as entity,
        row_count
    from staged_usage
),

final as (
    select
        statuses.entity,
        statuses.status_order,
        statuses.row_status,
        statuses.row_count::bigint as row_count,
        staged.row_count::bigint as entity_staged_rows,
        sum(statuses.row_count) over (partition by statuses.entity)::bigint as entity_accounted_rows
    from statuses
    inner join staged
        on statuses.entity = staged.entity
)

select * from final
