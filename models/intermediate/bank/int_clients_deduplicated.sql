{{
    config(
        materialized='table',
    )
}}

with

clients as (
    select * from {{ ref('stg_bank__clients') }}
),

ranked as (
    select
        *,
        {{ newest_load_rank('client_id') }}
    from clients
),

final as (
    select
        client_id,
        client_name,
        income,
        load_id,
        line_number,
        staged_row_count - 1 as superseded_row_count
    from ranked
    where row_rank = 1
)

select * from final
