-- Rows reported as unknown-client usage must not belong to a client of
-- client_segments. Returns offenders.
with

unknown_client_usage as (
    select * from {{ ref('bank_unknown_client_usage') }}
),

client_segments as (
    select * from {{ ref('client_segments') }}
),

final as (
    select
        unknown_client_usage.usage_id,
        unknown_client_usage.client_id
    from unknown_client_usage
    inner join client_segments
        on unknown_client_usage.client_id = client_segments.client_id
)

select * from final
