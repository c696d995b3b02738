-- Per source, customer_rfm's monetary adds up to the net amount of the kept
-- documents with a customer dated before the as_of_date, read straight from
-- the documents (not from the customer aggregates). customer_rfm holds
-- customers with a purchase only, so the documents of customers with returns
-- only (no purchase in the data) are the one allowed difference, and are
-- counted apart.
with

customer_documents as (
    select * from {{ ref('int_customer_documents_filtered') }}
    where order_date < as_of_date
),

customer_rfm as (
    select * from {{ ref('customer_rfm') }}
),

buyers as (
    select distinct
        source_system,
        customer_id
    from customer_documents
    where not is_return
),

document_totals as (
    select
        customer_documents.source_system,
        sum(customer_documents.net_amount) as documents_amount,
        coalesce(
            sum(customer_documents.net_amount) filter (where buyers.customer_id is null), 0
        ) as returns_only_amount
    from customer_documents
    left join buyers
        on
            customer_documents.source_system = buyers.source_system
            and customer_documents.customer_id = buyers.customer_id
    group by customer_documents.source_system
),

rfm_totals as (
    select
        source_system,
        sum(monetary) as rfm_monetary
    from customer_rfm
    group by source_system
),

compared as (
    select
        document_totals.source_system,
        document_totals.documents_amount,
        document_totals.returns_only_amount,
        rfm_totals.rfm_monetary
    from document_totals
    full outer join rfm_totals
        on document_totals.source_system = rfm_totals.source_system
)

select * from compared
where
    round(coalesce(rfm_monetary, 0) + coalesce(returns_only_amount, 0), 2)
    <> round(coalesce(documents_amount, 0), 2)
