-- The run log as written by `segmart build` (which creates ops.build_runs
-- before dbt runs); empty on a database no build has touched yet.
with

source as (
    -- the alias names the subquery that stands in before the first build
    select * from {{ ops_build_runs_relation() }} as build_runs  -- noqa: AL05
),

renamed as (
    select
        run_id,
        started_at,
        finished_at,
        status as run_status,
        exit_code,
        host_name,
        full_refresh as is_full_refresh,
        used_sample as used_sample_data,
        files_landed,
        files_skipped,
        files_refused,
        rows_loaded,
        rows_quarantined,
        dbt_passed as dbt_nodes_passed,
        dbt_warned as dbt_nodes_warned,
        dbt_failed as dbt_nodes_failed,
        dbt_skipped as dbt_nodes_skipped,
        stale_marts,
        stale_sources,
        duration_seconds,
        error_text
    from source
)

select * from renamed
