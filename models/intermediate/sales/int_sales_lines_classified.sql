{#-
    Incremental: a run reclassifies only the documents that appear in loads it
    has not seen (every line of those documents, from every load), replacing
    their rows.
-#}
{{
    config(
        materialized='incremental',
        unique_key='document_key',
        indexes=[
            {'columns': ['document_key']},
            {'columns': ['source_system', 'load_id', 'line_number'], 'unique': true},
            {'columns': ['newest_load_id']},
        ],
    )
}}

with

{% if is_incremental() %}
    changed_documents as (
        select distinct document_key
        from {{ ref('int_sales_lines_unioned') }}
        where load_id > {{ load_watermark() }}
    ),
{% endif %}

lines as (
    select * from {{ ref('int_sales_lines_unioned') }}
    {% if is_incremental() %}
        where document_key in (select changed_documents.document_key from changed_documents)
    {% endif %}
),

non_product_codes as (
    select * from {{ ref('sales_non_product_codes') }}
),

newest_load as (
    -- the superseding rule: the newest load of a document wins
    select
        document_key,
        max(load_id) as newest_load_id
    from lines
    group by document_key
),

classified as (
    select
        lines.*,
        newest_load.newest_load_id,
        non_product_codes.line_kind,
        case
            when lines.load_id < newest_load.newest_load_id then 'superseded_by_newer_load'
            when lines.is_adjustment then 'bad_debt_adjustment'
            when lines.quantity = 0 then 'zero_quantity'
            when lines.net_amount <= 0 and not lines.is_return then 'non_positive_amount'
            when lines.net_amount >= 0 and lines.is_return then 'non_negative_return'
        end as exclusion_reason
    from lines
    inner join newest_load
        on lines.document_key = newest_load.document_key
    left join non_product_codes
        on
            lines.source_system = 'uci'
            and lines.product_id = non_product_codes.product_id
),

final as (
    select
        source_system,
        load_id,
        line_number,
        document_key,
        order_id,
        product_id,
        product_name,
        customer_id,
        country,
        currency_code,
        ordered_at,
        quantity,
        unit_price,
        net_amount,
        is_return,
        is_cancellation,
        line_kind is null as is_product,
        coalesce(line_kind, 'product') as line_kind,
        newest_load_id,
        exclusion_reason
    from classified
)

select * from final
