with

clients as (
    select * from {{ ref('int_clients_segmented') }}
    where client_revenue is not null
),

as_of as (
    select max(as_of_date) as as_of_date from {{ ref('client_segments') }}
),

ranked as (
    select
        client_revenue,
        usage_count,
        rank() over (order by client_revenue)
        + (count(*) over (partition by client_revenue) - 1) / 2.0 as revenue_rank,
        rank() over (order by usage_count)
        + (count(*) over (partition by usage_count) - 1) / 2.0 as usage_count_rank
    from clients
),

correlated as (
    select
        count(*) as clients_with_income,
        count(*) filter (where usage_count > 0) as clients_with_income_and_usage,
        round(
            cast(corr(client_revenue, usage_count) as {{ type_number() }}), 6
        )::numeric(7, 6) as pearson_correlation,
        round(
            cast(corr(client_revenue, usage_count) filter (where usage_count > 0) as {{ type_number() }}), 6
        )::numeric(7, 6) as pearson_correlation_with_usage,
        round(
            cast(corr(revenue_rank, usage_count_rank) as {{ type_number() }}), 6
        )::numeric(7, 6) as spearman_correlation,
        (select as_of.as_of_date from as_of) as as_of_date
    from ranked
),

final as (
    -- no bank data yet: no row (the key, the as-of date, would be null)
    select * from correlated
    where as_of_date is not null
)

select * from final
