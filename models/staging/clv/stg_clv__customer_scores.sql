-- The per-customer scores written by segmart's CLV step; empty before its first run.
with

source as (
    select * from {{ clv_relation('customer_scores', {
        'source_system': 'text', 'customer_id': 'text', 'as_of_date': 'date',
        'probability_alive': 'double precision', 'expected_purchases_30d': 'double precision',
        'expected_purchases_90d': 'double precision', 'expected_purchases_365d': 'double precision',
        'expected_average_spend': 'double precision', 'clv': 'double precision',
    }) }} as customer_scores  -- noqa: AL05
),

renamed as (
    select
        source_system,
        customer_id,
        as_of_date,
        probability_alive,
        expected_purchases_30d,
        expected_purchases_90d,
        expected_purchases_365d,
        expected_average_spend,
        clv as customer_lifetime_value
    from source
)

select * from renamed
