-- Every customer in the segment history at an as-of date that has a next
-- month is counted once in the transition matrix from that date, in their
-- segment: per (source, month, segment), from_segment_customers and the sum
-- of customers equal the history's count.
with

history as (
    select * from {{ ref('customer_segment_history') }}
),

transitions as (
    select * from {{ ref('segment_transition_matrix') }}
),

last_months as (
    select
        source_system,
        max(as_of_date) as last_as_of_date
    from history
    group by source_system
),

history_counts as (
    select
        history.source_system,
        history.as_of_date,
        history.rfm_segment,
        count(*) as history_customers
    from history
    inner join last_months
        on history.source_system = last_months.source_system
    where history.as_of_date < last_months.last_as_of_date
    group by history.source_system, history.as_of_date, history.rfm_segment
),

transition_counts as (
    select
        source_system,
        from_as_of_date,
        from_segment,
        sum(customers) as moved_customers,
        min(from_segment_customers) as min_from_segment_customers,
        max(from_segment_customers) as max_from_segment_customers
    from transitions
    group by source_system, from_as_of_date, from_segment
),

compared as (
    select
        coalesce(history_counts.source_system, transition_counts.source_system) as source_system,
        coalesce(history_counts.as_of_date, transition_counts.from_as_of_date) as as_of_date,
        coalesce(history_counts.rfm_segment, transition_counts.from_segment) as rfm_segment,
        history_counts.history_customers,
        transition_counts.moved_customers,
        transition_counts.min_from_segment_customers,
        transition_counts.max_from_segment_customers
    from history_counts
    full outer join transition_counts
        on
            history_counts.source_system = transition_counts.source_system
            and history_counts.as_of_date = transition_counts.from_as_of_date
            and history_counts.rfm_segment = transition_counts.from_segment
)

select * from compared
where
    history_customers is distinct from moved_customers
    or history_customers is distinct from min_from_segment_customers
    or history_customers is distinct from max_from_segment_customers
