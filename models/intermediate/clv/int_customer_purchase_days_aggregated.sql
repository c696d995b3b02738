-- A table: the calibration summary reads it twice (as of today and as of the holdout date).
{{ config(materialized='table') }}

with

customer_documents as (
    select * from {{ ref('int_customer_documents_filtered') }}
    where order_date < as_of_date
),

aggregated as (
    select
        source_system,
        customer_id,
        order_date,
        count(*) filter (where not is_return) > 0 as has_purchase,
        coalesce(sum(net_amount) filter (where not is_return), 0) as purchase_amount,
        coalesce(sum(net_amount) filter (where is_return), 0) as return_amount
    from customer_documents
    group by source_system, customer_id, order_date
),

final as (
    select * from aggregated
)

select * from final
