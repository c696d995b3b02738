-- The k-means features of every customer of customer_rfm: recency, frequency
-- and monetary on a log scale (ln(1 + x)), then z-scores within the source.
-- Monetary <= 0 (returns cancelled every purchase) counts as 0: such a
-- customer brought no value, and a log of a negative amount is undefined.
-- A feature with no spread in its source (one customer, or all equal: a
-- population standard deviation of at most 1e-9, which is rounding noise)
-- has a null standard deviation here and z = 0 for everyone.
with

customer_rfm as (
    select * from {{ ref('customer_rfm') }}
),

logged as (
    select
        source_system,
        customer_id,
        currency_code,
        as_of_date,
        recency_days,
        frequency,
        monetary,
        rfm_segment,
        monetary <= 0 as has_non_positive_monetary,
        ln(1 + cast(recency_days as double precision)) as recency_log,
        ln(1 + cast(frequency as double precision)) as frequency_log,
        ln(1 + cast(greatest(monetary, 0) as double precision)) as monetary_log
    from customer_rfm
),

source_stats as (
    select
        source_system,
        avg(recency_log) as recency_log_mean,
        {{ kmeans_spread('recency_log') }} as recency_log_stddev,
        avg(frequency_log) as frequency_log_mean,
        {{ kmeans_spread('frequency_log') }} as frequency_log_stddev,
        avg(monetary_log) as monetary_log_mean,
        {{ kmeans_spread('monetary_log') }} as monetary_log_stddev
    from logged
    group by source_system
),

final as (
    select
        logged.source_system,
        logged.customer_id,
        logged.currency_code,
        logged.as_of_date,
        logged.recency_days,
        logged.frequency,
        logged.monetary,
        logged.rfm_segment,
        logged.has_non_positive_monetary,
        logged.recency_log,
        logged.frequency_log,
        logged.monetary_log,
        source_stats.recency_log_mean,
        source_stats.recency_log_stddev,
        source_stats.frequency_log_mean,
        source_stats.frequency_log_stddev,
        source_stats.monetary_log_mean,
        source_stats.monetary_log_stddev,
        coalesce(
            (logged.recency_log - source_stats.recency_log_mean) / source_stats.recency_log_stddev, 0
        ) as recency_z,
        coalesce(
            (logged.frequency_log - source_stats.frequency_log_mean) / source_stats.frequency_log_stddev, 0
        ) as frequency_z,
        coalesce(
            (logged.monetary_log - source_stats.monetary_log_mean) / source_stats.monetary_log_stddev, 0
        ) as monetary_z
    from logged
    inner join source_stats
        on logged.source_system = source_stats.source_system
)

select * from final
