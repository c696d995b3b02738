-- Where every staged sales line went: kept, or excluded with a reason.
-- Per source: staged rows = kept rows + excluded rows (tested).
with

staged as (
    select
        source_system,
        count(*) as staged_rows
    from {{ ref('int_sales_lines_unioned') }}
    group by source_system
),

classified as (
    select
        source_system,
        coalesce(exclusion_reason, 'kept') as line_status,
        count(*) as line_count,
        sum(net_amount) as net_amount
    from {{ ref('int_sales_lines_classified') }}
    group by source_system, coalesce(exclusion_reason, 'kept')
),

final as (
    select
        classified.source_system,
        classified.line_status,
        classified.line_status = 'kept' as is_kept,
        classified.line_count,
        classified.net_amount,
        staged.staged_rows as source_staged_rows,
        cast(
            sum(classified.line_count) over (partition by classified.source_system) as bigint
        ) as source_classified_rows
    from classified
    inner join staged
        on classified.source_system = staged.source_system
)

select * from final
