-- The tables segmart's CLV step writes (segmart/clv/job.py) and dbt reads as source `clv`.
-- Rewritten whole by every run of the step, in one transaction.
create schema if not exists clv;

create table if not exists clv.model_fits (
    source_system text not null,
    fit_scope text not null check (fit_scope in ('forecast', 'holdout')),
    as_of_date date not null,
    calibration_start_date date,
    calibration_end_date date not null,
    customers integer not null,
    repeat_buyers integer not null,
    spend_customers integer not null,
    excluded_spend_customers integer not null,
    r double precision,
    alpha double precision,
    a double precision,
    b double precision,
    bgnbd_log_likelihood double precision,
    p double precision,
    q double precision,
    gamma double precision,
    gamma_gamma_log_likelihood double precision,
    fit_status text not null check (fit_status in ('fitted', 'purchases_only', 'not_fitted')),
    fit_message text,
    fitted_at timestamptz not null,
    fit_seconds double precision not null,
    primary key (source_system, fit_scope)
);

create table if not exists clv.customer_scores (
    source_system text not null,
    customer_id text not null,
    as_of_date date not null,
    probability_alive double precision not null,
    expected_purchases_30d double precision not null,
    expected_purchases_90d double precision not null,
    expected_purchases_365d double precision not null,
    expected_average_spend double precision,
    clv double precision,
    primary key (source_system, customer_id)
);

create table if not exists clv.holdout_scores (
    source_system text not null,
    customer_id text not null,
    holdout_as_of_date date not null,
    predicted_purchases double precision not null,
    primary key (source_system, customer_id)
);
