with

abc_items as (
    {{ abc_items_of('country') }}
),

final as (
    select
        source_system,
        item_id as country,
        {{ abc_columns() }}
    from abc_items
)

select * from final
