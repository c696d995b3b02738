with

customer_documents as (
    select * from {{ ref('int_customer_documents_filtered') }}
    where order_date < as_of_date
),

aggregated as (
    -- one input row per document, so count(*) counts distinct documents
    select
        source_system,
        customer_id,
        as_of_date,
        min(order_date) filter (where not is_return) as first_purchase_date,
        max(order_date) filter (where not is_return) as last_purchase_date,
        count(*) filter (where not is_return) as frequency,
        sum(net_amount) as monetary,
        coalesce(sum(net_amount) filter (where not is_return), 0) as purchase_amount,
        count(*) filter (where is_return) as return_count,
        coalesce(sum(net_amount) filter (where is_return), 0) as return_amount
    from customer_documents
    group by source_system, customer_id, as_of_date
),

final as (
    select
        source_system,
        customer_id,
        as_of_date,
        frequency > 0 as has_purchase,
        first_purchase_date,
        last_purchase_date,
        frequency,
        monetary,
        purchase_amount,
        return_count,
        return_amount
    from aggregated
)

select * from final
