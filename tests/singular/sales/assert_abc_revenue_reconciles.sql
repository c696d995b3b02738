-- Per source, abc_countries holds all the revenue of sales_lines, and
-- abc_products all the revenue of its product lines. Returns the mismatches.
with

countries as (
    select
        source_system,
        'abc_countries' as mart,
        sum(revenue) as revenue
    from {{ ref('abc_countries') }}
    group by source_system
),

products as (
    select
        source_system,
        'abc_products' as mart,
        sum(revenue) as revenue
    from {{ ref('abc_products') }}
    group by source_system
),

abc as (
    select * from countries
    union all
    select * from products
),

all_lines as (
    select
        source_system,
        'abc_countries' as mart,
        sum(net_amount) as revenue
    from {{ ref('sales_lines') }}
    group by source_system
),

product_lines as (
    select
        source_system,
        'abc_products' as mart,
        sum(net_amount) as revenue
    from {{ ref('sales_lines') }}
    where is_product
    group by source_system
),

lines as (
    select * from all_lines
    union all
    select * from product_lines
),

final as (
    select
        coalesce(abc.source_system, lines.source_system) as source_system,
        coalesce(abc.mart, lines.mart) as mart,
        abc.revenue as abc_revenue,
        lines.revenue as lines_revenue
    from abc
    full outer join lines
        on
            abc.source_system = lines.source_system
            and abc.mart = lines.mart
    where
        abc.revenue is null
        or lines.revenue is null
        or round(abc.revenue, 2) <> round(lines.revenue, 2)
)

select * from final
