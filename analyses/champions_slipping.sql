-- customer_segment_history is not built on Spark yet (docs/spark.md)
{{ config(enabled=target.type != 'spark') }}

-- Customers who were Champions or Loyal at the previous monthly as-of date and
-- have since dropped to a weaker segment, with what they were worth: the list
-- marketing asks for first. Compile with `dbt compile -s champions_slipping`
-- and run the SQL in target/compiled/.
with

history as (
    select * from {{ ref('customer_segment_history') }}
),

latest_months as (
    select
        source_system,
        max(as_of_date) as latest_as_of_date
    from history
    group by source_system
),

paired as (
    select
        current_month.source_system,
        current_month.customer_id,
        previous_month.rfm_segment as previous_segment,
        current_month.rfm_segment as current_segment,
        current_month.monetary,
        current_month.recency_days
    from history as current_month
    inner join latest_months
        on
            current_month.source_system = latest_months.source_system
            and current_month.as_of_date = latest_months.latest_as_of_date
    inner join history as previous_month
        on
            current_month.source_system = previous_month.source_system
            and current_month.customer_id = previous_month.customer_id
            and previous_month.as_of_date = cast({{ dbt.dateadd('month', -1, 'current_month.as_of_date') }} as date)
),

final as (
    select *
    from paired
    where
        previous_segment in ('Champions', 'Loyal')
        and current_segment not in ('Champions', 'Loyal')
)

select * from final
order by source_system asc, monetary desc
