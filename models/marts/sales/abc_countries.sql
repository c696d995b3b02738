-- ABC classification of countries by net revenue, per source (see
-- int_sales_abc_items for the Pareto rule). 1C has no customer country: all
-- its sales are in the source's default country.
with

abc_items as (
    select * from {{ ref('int_sales_abc_items') }}
    where item_type = 'country'
),

final as (
    select
        source_system,
        item_id as country,
        revenue,
        revenue_share,
        cumulative_share,
        revenue_rank,
        abc_class
    from abc_items
)

select * from final
