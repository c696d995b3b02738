with

clients as (
    select * from {{ ref('int_clients_segmented') }}
),

band_usage as (
    select
        income_band_order,
        income_band,
        band_min_income,
        band_max_income,
        usage_count,
        count(*) as clients
    from clients
    group by income_band_order, income_band, band_min_income, band_max_income, usage_count
),

band_totals as (
    select
        income_band_order,
        count(*) as band_clients,
        avg(usage_count) as band_avg_usage_count,
        avg(client_revenue) as band_avg_revenue
    from clients
    group by income_band_order
),

final as (
    select
        band_usage.income_band_order,
        band_usage.income_band,
        band_usage.band_min_income,
        band_usage.band_max_income,
        band_usage.usage_count,
        band_usage.clients,
        band_totals.band_clients,
        round(band_usage.clients::numeric / band_totals.band_clients, 6)::numeric(7, 6) as share_of_band_clients,
        round(band_totals.band_avg_usage_count, 4)::numeric(10, 4) as band_avg_usage_count,
        round(band_totals.band_avg_revenue)::bigint as band_avg_revenue
    from band_usage
    inner join band_totals
        on band_usage.income_band_order = band_totals.income_band_order
)

select * from final
