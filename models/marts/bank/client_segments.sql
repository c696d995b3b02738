with

clients as (
    select * from {{ ref('int_clients_segmented') }}
),

as_of as (
    -- an aggregate, so exactly one row even when the var sets the date
    select
        coalesce(
            {{ "'" ~ var('bank_as_of_date') ~ "'::date" if var('bank_as_of_date') else 'null::date' }},
            cast({{ dbt.dateadd('day', 1, 'max(last_product_usage_date)') }} as date)
        ) as as_of_date
    from clients
),

final as (
    select
        clients.client_id,
        clients.client_name,
        clients.client_revenue,
        clients.usage_count,
        clients.segment_name as client_segment,
        clients.segment_code as client_segment_code,
        clients.segment_order as client_segment_order,
        clients.has_usage,
        clients.total_usages,
        clients.first_product_usage_date,
        clients.last_product_usage_date,
        as_of.as_of_date,
        cast(
            {{ dbt.datediff('clients.last_product_usage_date', 'as_of.as_of_date', 'day') }} as integer
        ) as days_since_last_usage,
        clients.income_band,
        clients.income_band_order
    from clients
    cross join as_of
)

select * from final
