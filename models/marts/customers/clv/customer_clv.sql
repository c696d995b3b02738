with

customer_rfm as (
    select * from {{ ref('customer_rfm') }}
),

summary as (
    select * from {{ ref('int_customer_clv_summarised') }}
),

scores as (
    select * from {{ ref('stg_clv__customer_scores') }}
),

periods as (
    select * from {{ ref('int_clv_calibration_periods_derived') }}
),

joined as (
    -- scores of another as_of_date (the CLV step has not run since the data changed) are left out
    select
        customer_rfm.source_system,
        customer_rfm.customer_id,
        customer_rfm.currency_code,
        customer_rfm.as_of_date,
        customer_rfm.rfm_segment,
        customer_rfm.monetary,
        summary.repeat_purchases,
        summary.recency_span_days,
        summary.customer_age_days,
        summary.mean_repeat_spend,
        scores.probability_alive,
        scores.expected_purchases_30d,
        scores.expected_purchases_90d,
        scores.expected_purchases_365d,
        scores.expected_average_spend,
        scores.customer_lifetime_value,
        periods.horizon_months,
        periods.monthly_discount_rate
    from customer_rfm
    left join summary
        on
            customer_rfm.source_system = summary.source_system
            and customer_rfm.customer_id = summary.customer_id
    left join scores
        on
            customer_rfm.source_system = scores.source_system
            and customer_rfm.customer_id = scores.customer_id
            and customer_rfm.as_of_date = scores.as_of_date
    left join periods
        on customer_rfm.source_system = periods.source_system
),

final as (
    select
        source_system,
        customer_id,
        currency_code,
        as_of_date,
        rfm_segment,
        cast(monetary as numeric(18, 2)) as monetary,
        repeat_purchases,
        recency_span_days,
        customer_age_days,
        cast(mean_repeat_spend as numeric(18, 2)) as mean_repeat_spend,
        coalesce(repeat_purchases > 0 and mean_repeat_spend <= 0, false) as has_nonpositive_repeat_spend,
        cast(probability_alive as numeric(18, 6)) as probability_alive,
        probability_alive < {{ var('clv_gone_threshold') }} as is_probably_gone,
        cast(expected_purchases_30d as numeric(18, 6)) as expected_purchases_30d,
        cast(expected_purchases_90d as numeric(18, 6)) as expected_purchases_90d,
        cast(expected_purchases_365d as numeric(18, 6)) as expected_purchases_365d,
        cast(expected_average_spend as numeric(18, 2)) as expected_average_spend,
        cast(customer_lifetime_value as numeric(18, 2)) as customer_lifetime_value,
        horizon_months as clv_horizon_months,
        monthly_discount_rate as clv_monthly_discount_rate,
        probability_alive is not null as is_scored
    from joined
)

select * from final
