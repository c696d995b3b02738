with

lifecycle as (
    select * from {{ ref('customer_lifecycle_monthly') }}
    where is_observable
),

states as (
    select
        lifecycle_state,
        state_order
    from (values ('new', 1), ('active', 2), ('returning', 3), ('inactive', 4)) as states (lifecycle_state, state_order)
),

months as (
    select distinct
        source_system,
        month_start
    from lifecycle
),

state_counts as (
    select
        source_system,
        month_start,
        lifecycle_state,
        count(*) as customers
    from lifecycle
    group by source_system, month_start, lifecycle_state
),

final as (
    select
        months.source_system,
        months.month_start,
        states.lifecycle_state,
        states.state_order as lifecycle_state_order,
        coalesce(state_counts.customers, 0) as customers
    from months
    cross join states
    left join state_counts
        on
            months.source_system = state_counts.source_system
            and months.month_start = state_counts.month_start
            and states.lifecycle_state = state_counts.lifecycle_state
)

select * from final
