-- Every distinct-product count from 0 up falls in exactly one bank_segments
-- range, and exactly one range is open-ended; otherwise a client could get no
-- segment or two. Returns what breaks the rule.
with

segments as (
    select * from {{ ref('bank_segments') }}
),

highest_count as (
    select max(coalesce(max_products, min_products)) + 1 as product_count
    from segments
),

counts_to_check as (
    select counts.product_count
    from highest_count
    {{ series_join(0, 'highest_count.product_count', 'counts', 'product_count') }}
),

matches as (
    select
        counts_to_check.product_count,
        count(segments.segment_code) as matching_segments
    from counts_to_check
    left join segments
        on
            counts_to_check.product_count >= segments.min_products
            and (segments.max_products is null or counts_to_check.product_count <= segments.max_products)
    group by counts_to_check.product_count
),

final as (
    select
        product_count,
        matching_segments,
        'every product count must match exactly one segment' as problem
    from matches
    where matching_segments <> 1
    union all
    select
        null as product_count,
        count(*) as matching_segments,
        'exactly one segment must have no max_products' as problem
    from segments
    where max_products is null
    having count(*) <> 1
)

select * from final
