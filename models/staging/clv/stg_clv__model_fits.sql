-- The fits written by segmart's CLV step; empty before its first run.
with

source as (
    select * from {{ clv_relation('model_fits', {
        'source_system': 'text', 'fit_scope': 'text', 'as_of_date': 'date',
        'calibration_start_date': 'date', 'calibration_end_date': 'date', 'customers': 'integer',
        'repeat_buyers': 'integer', 'spend_customers': 'integer', 'excluded_spend_customers': 'integer',
        'r': 'double precision', 'alpha': 'double precision', 'a': 'double precision',
        'b': 'double precision', 'bgnbd_log_likelihood': 'double precision', 'p': 'double precision',
        'q': 'double precision', 'gamma': 'double precision', 'gamma_gamma_log_likelihood': 'double precision',
        'fit_status': 'text', 'fit_message': 'text', 'fitted_at': 'timestamptz', 'fit_seconds': 'double precision',
    }) }} as model_fits  -- noqa: AL05
),

renamed as (
    select
        source_system,
        fit_scope,
        as_of_date,
        calibration_start_date,
        calibration_end_date,
        customers,
        repeat_buyers,
        spend_customers,
        excluded_spend_customers,
        r as bgnbd_r,
        alpha as bgnbd_alpha,
        a as bgnbd_a,
        b as bgnbd_b,
        bgnbd_log_likelihood,
        p as gamma_gamma_p,
        q as gamma_gamma_q,
        gamma as gamma_gamma_gamma,
        gamma_gamma_log_likelihood,
        fit_status,
        fit_message,
        fitted_at,
        fit_seconds
    from source
)

select * from renamed
