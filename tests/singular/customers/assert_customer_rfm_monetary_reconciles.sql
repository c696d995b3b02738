-- Per source, customer_rfm's monetary adds up to the net amount of the kept
-- documents with a customer dated before the as_of_date, read straight from
-- the order aggregates. customer_rfm holds customers with a purchase only, so
-- the documents of customers with returns only (no purchase in the data) are
-- the one allowed difference, and are counted apart.
with

orders as (
    select * from {{ ref('int_sales_orders_aggregated') }}
),

as_of_dates as (
    select * from {{ ref('int_sales_as_of_dates') }}
),

customer_rfm as (
    select * from {{ ref('customer_rfm') }}
),

customer_documents as (
    select
        orders.source_system,
        orders.customer_id,
        orders.net_amount,
        orders.is_return
    from orders
    inner join as_of_dates
        on orders.source_system = as_of_dates.source_system
    where
        orders.kept_line_count > 0
        and orders.has_customer
        and orders.order_date < as_of_dates.as_of_date
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
