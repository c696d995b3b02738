-- Operations bookkeeping, created (idempotently) by every `segmart build`.
create schema if not exists ops;

-- One row per `segmart build`: written when it starts, completed when it ends.
create table if not exists ops.build_runs (
    run_id bigint generated always as identity primary key,
    started_at timestamptz not null default clock_timestamp(),
    finished_at timestamptz,
    status text not null default 'running',
    exit_code integer,
    host_name text,
    full_refresh boolean not null default false,
    used_sample boolean not null default false,
    files_landed integer not null default 0,
    files_skipped integer not null default 0,
    files_refused integer not null default 0,
    rows_loaded bigint not null default 0,
    rows_quarantined bigint not null default 0,
    dbt_passed integer not null default 0,
    dbt_warned integer not null default 0,
    dbt_failed integer not null default 0,
    dbt_skipped integer not null default 0,
    stale_marts text,
    stale_sources text,
    duration_seconds numeric(12, 1),
    error_text text,
    log_file text,
    constraint build_runs_status check (
        status in ('running', 'success', 'partial', 'failed', 'locked_out', 'aborted')
    )
);

-- The loads of the bundled demo data: removed when the first own file lands.
create table if not exists ops.sample_loads (
    load_id bigint primary key
);

-- Work a later run must do (e.g. a full refresh after the demo was removed).
create table if not exists ops.pending (
    task text primary key,
    reason text not null,
    since timestamptz not null default clock_timestamp()
);
