{#-
    Incremental: a run classifies the lines of the loads it has not seen and
    re-emits the earlier lines of the documents those loads contain (from this
    model: a newer load now supersedes them all), replacing the documents'
    rows. It never rescans the staged history.

    A full build finds each document's newest load with a narrow pass of its
    own instead of reading a `lines` CTE twice: PostgreSQL would write every
    line to a temporary file for the second read and run no parallel plan.

    A 1C pull may withdraw a document (unposted or marked for deletion in 1C):
    the withdrawal counts as a load of the document without lines, so when it
    is the document's newest load, every line of it is `withdrawn_at_source`.
-#}
-- depends_on: {{ ref('stg_loader__load_batches') }}
{#- On Spark (plain Parquet, no delete) a table rebuilt whole: see docs/spark.md -#}
{{
    config(
        materialized='table' if target.type == 'spark' else 'incremental',
        unique_key='document_key',
        indexes=[
            {'columns': ['document_key']},
            {'columns': ['source_system', 'load_id', 'line_number'], 'unique': true},
            {'columns': ['newest_load_id']},
        ],
    )
}}

with

lines as (
    select * from {{ ref('int_sales_lines_unioned') }}
    {% if is_incremental() %}
        where load_id > {{ load_watermark() }}
    {% endif %}
),

non_product_codes as (
    select * from {{ ref('sales_non_product_codes') }}
),

withdrawals as (
    select
        {{ concat_key(["'onec'", 'order_id']) }} as document_key,
        load_id
    from {{ ref('stg_sales__onec_withdrawn_documents') }}
    {% if is_incremental() %}
        where load_id > {{ load_watermark() }}
    {% endif %}
),

line_loads as (
    select
        document_key,
        max(load_id) as newest_line_load_id
    {% if is_incremental() -%}
        from lines
    {%- else -%}
        from {{ ref('int_sales_lines_unioned') }}
    {%- endif %}
    group by document_key
),

withdrawal_loads as (
    select
        document_key,
        max(load_id) as newest_withdrawal_load_id
    from withdrawals
    group by document_key
),

newest_load as (
    -- the superseding rule: the newest load of a document wins. Loads are
    -- numbered in landing order, so a new load's documents have their newest
    -- load among the new lines (or the new withdrawals).
    select
        coalesce(line_loads.document_key, withdrawal_loads.document_key) as document_key,
        greatest(line_loads.newest_line_load_id, withdrawal_loads.newest_withdrawal_load_id) as newest_load_id,
        coalesce(
            withdrawal_loads.newest_withdrawal_load_id > line_loads.newest_line_load_id
            or line_loads.newest_line_load_id is null,
            false
        ) as is_withdrawn
    from line_loads
    full outer join withdrawal_loads
        on line_loads.document_key = withdrawal_loads.document_key
),

{% if is_incremental() %}
    earlier_lines as (
        -- the lines of those documents from loads already classified (and
        -- still landed): superseded now
        select
            this.source_system,
            this.load_id,
            this.line_number,
            this.document_key,
            this.order_id,
            this.product_id,
            this.product_name,
            this.customer_id,
            this.country,
            this.currency_code,
            this.ordered_at,
            this.quantity,
            this.unit_price,
            this.net_amount,
            this.is_return,
            this.is_cancellation,
            this.is_product,
            this.line_kind,
            newest_load.newest_load_id,
            case
                when newest_load.is_withdrawn then 'withdrawn_at_source'
                else 'superseded_by_newer_load'
            end as exclusion_reason
        from {{ this }} as this
        inner join newest_load
            on this.document_key = newest_load.document_key
        where
            this.load_id in (
                select batches.load_id from {{ ref('stg_loader__load_batches') }} as batches
            )
    ),
{% endif %}

classified as (
    select
        lines.*,
        newest_load.newest_load_id,
        non_product_codes.line_kind,
        case
            when newest_load.is_withdrawn then 'withdrawn_at_source'
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
    {% if is_incremental() %}
        union all
        select * from earlier_lines
    {% endif %}
)

select * from final
