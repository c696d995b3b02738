with

abc_items as (
    {{ abc_items_of('product') }}
),

final as (
    select
        source_system,
        item_id as product_id,
        item_name as product_name,
        {{ abc_columns() }}
    from abc_items
)

select * from final
