{#-
    A table: both ABC marts read it, and it scans every kept line once.
-#}
{{ config(materialized='table') }}

with

lines as (
    select * from {{ ref('int_sales_lines_classified') }}
    where exclusion_reason is null
),

line_groups as (
    -- one pass over the lines; everything below works on these few thousand rows
    select
        source_system,
        country,
        product_id,
        product_name,
        is_product,
        sum(net_amount) as revenue,
        max(ordered_at) as last_ordered_at
    from lines
    group by source_system, country, product_id, product_name, is_product
),

country_revenue as (
    select
        source_system,
        'country' as item_type,
        country as item_id,
        country as item_name,
        sum(revenue) as revenue
    from line_groups
    group by source_system, country
),

product_names_ranked as (
    -- a stock code can carry several descriptions: the newest one names it
    select
        source_system,
        product_id,
        product_name,
        row_number() over (
            partition by source_system, product_id
            order by last_ordered_at desc, product_name asc
        ) as name_rank
    from line_groups
    where is_product
),

product_names as (
    select
        source_system,
        product_id,
        product_name
    from product_names_ranked
    where name_rank = 1
),

product_totals as (
    -- postage, fees, manual and discount lines are not products
    select
        source_system,
        product_id,
        sum(revenue) as revenue
    from line_groups
    where is_product
    group by source_system, product_id
),

product_revenue as (
    select
        product_totals.source_system,
        'product' as item_type,
        product_totals.product_id as item_id,
        product_names.product_name as item_name,
        product_totals.revenue
    from product_totals
    inner join product_names
        on
            product_totals.source_system = product_names.source_system
            and product_totals.product_id = product_names.product_id
),

items as (
    select * from country_revenue
    union all
    select * from product_revenue
),

ranked as (
    select
        *,
        row_number() over (
            partition by source_system, item_type order by revenue desc, item_id asc
        ) as revenue_rank,
        sum(revenue) over (
            partition by source_system, item_type order by revenue desc, item_id asc
            rows between unbounded preceding and current row
        ) as cumulative_revenue,
        sum(greatest(revenue, 0)) over (partition by source_system, item_type) as positive_revenue_total
    from items
),

shares as (
    select
        *,
        -- cast: on Spark a narrower decimal keeps 14 decimals in the quotient, not 6
        cast(revenue as {{ type_number() }})
        / nullif(cast(positive_revenue_total as {{ type_number() }}), 0) as revenue_share,
        cast(cumulative_revenue as {{ type_number() }})
        / nullif(cast(positive_revenue_total as {{ type_number() }}), 0) as cumulative_share,
        cast(cumulative_revenue - revenue as {{ type_number() }})
        / nullif(cast(positive_revenue_total as {{ type_number() }}), 0) as share_before
    from ranked
),

final as (
    select
        source_system,
        item_type,
        item_id,
        item_name,
        revenue,
        revenue_share,
        cumulative_share,
        cast(revenue_rank as integer) as revenue_rank,
        case
            when revenue <= 0 then 'C'
            when share_before < {{ var('abc_a_cutoff') }} then 'A'
            when share_before < {{ var('abc_b_cutoff') }} then 'B'
            else 'C'
        end as abc_class
    from shares
)

select * from final
