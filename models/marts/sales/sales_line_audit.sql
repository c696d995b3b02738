with

batches as (
    select * from {{ ref('stg_loader__load_batches') }}
),

staged as (
    select
        case target_table
            when 'sales_uci_lines' then 'uci'
            when 'sales_onec_lines' then 'onec'
        end as source_system,
        sum(rows_loaded) as staged_rows
    from batches
    where target_table in ('sales_uci_lines', 'sales_onec_lines')
    group by target_table
),

classified as (
    -- per-document line counts by status: a few rows per document, not every line
    select
        source_system,
        line_status,
        cast(sum(line_count) as bigint) as line_count,
        sum(net_amount) as net_amount
    from {{ ref('int_sales_line_statuses_aggregated') }}
    group by source_system, line_status
),

final as (
    select
        classified.source_system,
        classified.line_status,
        classified.line_status = 'kept' as is_kept,
        classified.line_count,
        cast(classified.net_amount as numeric(18, 3)) as net_amount,
        cast(staged.staged_rows as bigint) as source_staged_rows,
        cast(
            sum(classified.line_count) over (partition by classified.source_system) as bigint
        ) as source_classified_rows
    from classified
    inner join staged
        on classified.source_system = staged.source_system
)

select * from final
