{#- On Spark (plain Parquet, no delete) a table rebuilt whole: see docs/spark.md -#}
{{
    config(
        materialized='table' if target.type == 'spark' else 'incremental',
        unique_key='document_key',
        pre_hook=["set local work_mem = '{{ var('aggregate_work_mem') }}'"] if target.type == 'postgres' else [],
        indexes=[
            {'columns': ['document_key'], 'unique': true},
            {'columns': ['source_system', 'customer_id']},
            {'columns': ['newest_load_id']},
        ],
    )
}}

with

lines as (
    {{ rows_since_watermark(ref('int_sales_lines_classified')) }}
),

orders as (
    select
        document_key,
        source_system,
        order_id,
        max(newest_load_id) as newest_load_id,
        -- a document has one customer; max() also ignores nulls
        max(customer_id) filter (where exclusion_reason is null) as customer_id,
        max(country) filter (where exclusion_reason is null) as country,
        min(ordered_at) filter (where exclusion_reason is null) as ordered_at,
        count(*) filter (where exclusion_reason is null) as kept_line_count,
        count(*) as staged_line_count,
        coalesce(sum(net_amount) filter (where exclusion_reason is null), 0) as net_amount,
        coalesce(sum(quantity) filter (where exclusion_reason is null), 0) as units,
        bool_or(is_return) filter (where exclusion_reason is null) as is_return
    from lines
    group by document_key, source_system, order_id
),

final as (
    select
        document_key,
        source_system,
        order_id,
        newest_load_id,
        customer_id,
        customer_id is not null as has_customer,
        country,
        ordered_at,
        cast(ordered_at as date) as order_date,
        cast({{ dbt.date_trunc('month', 'ordered_at') }} as date) as order_month,
        kept_line_count,
        staged_line_count,
        net_amount,
        units,
        coalesce(is_return, false) as is_return
    from orders
)

select * from final
