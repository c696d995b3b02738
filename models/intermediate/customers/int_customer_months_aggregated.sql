-- A table: five models and their tests read it: aggregate the documents once, not once per reader.
{{ config(materialized='table') }}

with

customer_documents as (
    select * from {{ ref('int_customer_documents_filtered') }}
),

customer_months as (
    -- one input row per document, so count(*) counts distinct documents
    select
        source_system,
        customer_id,
        order_month,
        count(*) filter (where not is_return) as purchase_count,
        count(*) filter (where is_return) as return_count,
        sum(net_amount) as net_amount,
        min(order_date) filter (where not is_return) as month_first_purchase_date,
        max(order_date) filter (where not is_return) as month_last_purchase_date
    from customer_documents
    group by source_system, customer_id, order_month
),

final as (
    select
        source_system,
        customer_id,
        order_month,
        purchase_count,
        return_count,
        purchase_count > 0 as is_purchase_month,
        net_amount,
        month_first_purchase_date,
        month_last_purchase_date,
        min(month_first_purchase_date) over customer_history as first_purchase_date,
        cast(
            {{ dbt.date_trunc('month', 'min(month_first_purchase_date) over customer_history') }} as date
        ) as first_purchase_month
    from customer_months
    window customer_history as (partition by source_system, customer_id)
)

select * from final
