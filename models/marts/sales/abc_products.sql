-- ABC classification of products by net revenue, per source (see
-- int_sales_abc_items for the Pareto rule). Postage, fees, manual and
-- discount lines are not products and are left out.
with

abc_items as (
    select * from {{ ref('int_sales_abc_items') }}
    where item_type = 'product'
),

final as (
    select
        source_system,
        item_id as product_id,
        item_name as product_name,
        revenue,
        revenue_share,
        cumulative_share,
        revenue_rank,
        abc_class
    from abc_items
)

select * from final
