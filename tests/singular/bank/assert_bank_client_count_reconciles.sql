-- client_segments and client_cross_sell hold every distinct staged client_id
-- exactly once. Returns a row when the counts differ.
with

staged as (
    select count(distinct client_id) as staged_clients
    from {{ ref('stg_bank__clients') }}
),

marts as (
    select
        (select count(*) from {{ ref('client_segments') }}) as segment_rows,
        (select count(*) from {{ ref('client_cross_sell') }}) as cross_sell_rows,
        (select sum(clients) from {{ ref('income_engagement') }}) as income_engagement_clients
),

final as (
    select
        staged.staged_clients,
        marts.segment_rows,
        marts.cross_sell_rows,
        marts.income_engagement_clients
    from staged
    cross join marts
    where
        staged.staged_clients <> marts.segment_rows
        or staged.staged_clients <> marts.cross_sell_rows
        or staged.staged_clients <> marts.income_engagement_clients
)

select * from final
