{#-
    Where each document's staged lines went: one row per document and line
    status (kept or the exclusion reason), with the lines' count and net
    amount. sales_line_audit sums these few rows instead of every line.
    Incremental like int_sales_orders_aggregated: the documents whose newest
    load is one this model has not seen are replaced whole.
-#}
{#- On Spark (plain Parquet, no delete) a table rebuilt whole: see docs/spark.md -#}
{{
    config(
        materialized='table' if target.type == 'spark' else 'incremental',
        unique_key='document_key',
        pre_hook=["set local work_mem = '{{ var('aggregate_work_mem') }}'"] if target.type == 'postgres' else [],
        indexes=[
            {'columns': ['document_key']},
            {'columns': ['newest_load_id']},
        ],
    )
}}

with

lines as (
    {{ rows_since_watermark(ref('int_sales_lines_classified')) }}
),

final as (
    select
        document_key,
        source_system,
        coalesce(exclusion_reason, 'kept') as line_status,
        max(newest_load_id) as newest_load_id,
        count(*) as line_count,
        sum(net_amount) as net_amount
    from lines
    group by document_key, source_system, coalesce(exclusion_reason, 'kept')
)

select * from final
