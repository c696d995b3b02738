-- The holdout predictions written by segmart's CLV step; empty before its first run.
with

source as (
    select * from {{ clv_relation('holdout_scores', {
        'source_system': 'text', 'customer_id': 'text', 'holdout_as_of_date': 'date',
        'predicted_purchases': 'double precision',
    }) }} as holdout_scores  -- noqa: AL05
),

renamed as (
    select
        source_system,
        customer_id,
        holdout_as_of_date,
        predicted_purchases
    from source
)

select * from renamed
