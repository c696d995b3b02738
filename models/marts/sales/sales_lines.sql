{#-
    A table, not a view over the incrementally maintained classification: the
    intermediate tables change while a build runs, and readers must see the
    lines of the same build as the other marts (segmart publishes a build's
    marts together, see segmart/ops/publish.py).
-#}
{{ config(materialized='table') }}

with

classified as (
    select * from {{ ref('int_sales_lines_classified') }}
),

final as (
    select
        {{ concat_key(['source_system', 'load_id', 'line_number']) }} as sales_line_id,
        source_system,
        document_key,
        order_id,
        load_id,
        line_number,
        product_id,
        product_name,
        customer_id,
        customer_id is not null as has_customer,
        country,
        currency_code,
        ordered_at,
        cast(ordered_at as date) as order_date,
        cast(quantity as numeric(15, 3)) as quantity,
        cast(unit_price as numeric(18, 4)) as unit_price,
        cast(net_amount as numeric(18, 3)) as net_amount,
        is_return,
        is_cancellation,
        is_product,
        line_kind
    from classified
    where exclusion_reason is null
)

select * from final
