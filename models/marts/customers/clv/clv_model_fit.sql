with

model_fits as (
    select * from {{ ref('stg_clv__model_fits') }}
),

sources as (
    select * from {{ ref('sales_sources') }}
),

periods as (
    select * from {{ ref('int_clv_calibration_periods_derived') }}
),

joined as (
    select
        model_fits.*,
        sources.currency_code,
        periods.holdout_days
    from model_fits
    left join sources
        on model_fits.source_system = sources.source_system
    left join periods
        on model_fits.source_system = periods.source_system
),

final as (
    select
        source_system,
        fit_scope,
        currency_code,
        as_of_date,
        calibration_start_date,
        calibration_end_date,
        case when fit_scope = 'holdout' then holdout_days end as holdout_days,
        customers,
        repeat_buyers,
        spend_customers,
        excluded_spend_customers,
        fit_status,
        fit_message,
        cast(bgnbd_r as numeric(24, 9)) as bgnbd_r,
        cast(bgnbd_alpha as numeric(24, 9)) as bgnbd_alpha,
        cast(bgnbd_a as numeric(24, 9)) as bgnbd_a,
        cast(bgnbd_b as numeric(24, 9)) as bgnbd_b,
        cast(bgnbd_log_likelihood as numeric(24, 6)) as bgnbd_log_likelihood,
        cast(gamma_gamma_p as numeric(24, 9)) as gamma_gamma_p,
        cast(gamma_gamma_q as numeric(24, 9)) as gamma_gamma_q,
        cast(gamma_gamma_gamma as numeric(24, 9)) as gamma_gamma_gamma,
        cast(gamma_gamma_log_likelihood as numeric(24, 6)) as gamma_gamma_log_likelihood,
        fitted_at,
        cast(fit_seconds as numeric(12, 3)) as fit_seconds
    from joined
)

select * from final
