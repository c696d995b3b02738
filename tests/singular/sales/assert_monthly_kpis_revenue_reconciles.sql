-- Per source, the revenue of all months in monthly_kpis equals the net amount
-- of all kept lines in sales_lines (lines vs documents: two paths). Returns
-- the sources that differ, or exist on one side only.
with

kpis as (
    select
        source_system,
        sum(revenue) as revenue
    from {{ ref('monthly_kpis') }}
    group by source_system
),

lines as (
    select
        source_system,
        sum(net_amount) as revenue
    from {{ ref('sales_lines') }}
    group by source_system
),

final as (
    select
        coalesce(kpis.source_system, lines.source_system) as source_system,
        kpis.revenue as kpis_revenue,
        lines.revenue as lines_revenue
    from kpis
    full outer join lines
        on kpis.source_system = lines.source_system
    where
        kpis.revenue is null
        or lines.revenue is null
        or round(kpis.revenue, 2) <> round(lines.revenue, 2)
)

select * from final
