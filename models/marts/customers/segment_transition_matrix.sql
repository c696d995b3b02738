with

history as (
    select * from {{ ref('customer_segment_history') }}
),

segment_map as (
    select * from {{ ref('rfm_segment_map') }}
),

segments as (
    select distinct rfm_segment
    from segment_map
),

customer_steps as (
    select
        source_system,
        customer_id,
        lag(as_of_date) over customer_months as from_as_of_date,
        as_of_date as to_as_of_date,
        lag(rfm_segment) over customer_months as from_segment,
        rfm_segment as to_segment
    from history
    window customer_months as (partition by source_system, customer_id order by as_of_date)
),

transitions as (
    select
        source_system,
        customer_id,
        from_as_of_date,
        to_as_of_date,
        from_segment,
        to_segment
    from customer_steps
    where from_as_of_date = cast({{ dbt.dateadd('month', -1, 'to_as_of_date') }} as date)
),

counted as (
    select
        source_system,
        from_as_of_date,
        to_as_of_date,
        from_segment,
        to_segment,
        count(*) as customers
    from transitions
    group by source_system, from_as_of_date, to_as_of_date, from_segment, to_segment
),

from_segments as (
    select
        source_system,
        from_as_of_date,
        to_as_of_date,
        from_segment,
        sum(customers) as from_segment_customers
    from counted
    group by source_system, from_as_of_date, to_as_of_date, from_segment
),

spine as (
    select
        from_segments.source_system,
        from_segments.from_as_of_date,
        from_segments.to_as_of_date,
        from_segments.from_segment,
        from_segments.from_segment_customers,
        segments.rfm_segment as to_segment
    from from_segments
    cross join segments
),

final as (
    select
        spine.source_system,
        spine.from_as_of_date,
        spine.to_as_of_date,
        spine.from_segment,
        spine.to_segment,
        spine.from_segment = spine.to_segment as is_same_segment,
        coalesce(counted.customers, 0) as customers,
        cast(spine.from_segment_customers as bigint) as from_segment_customers,
        {{ fixed_share(
            'coalesce(counted.customers, 0) / cast(spine.from_segment_customers as numeric)',
            'spine.source_system, spine.from_as_of_date, spine.from_segment',
            'spine.to_segment',
        ) }} as share_of_from_segment
    from spine
    left join counted
        on
            spine.source_system = counted.source_system
            and spine.from_as_of_date = counted.from_as_of_date
            and spine.from_segment = counted.from_segment
            and spine.to_segment = counted.to_segment
)

select * from final
