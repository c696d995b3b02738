-- The last runs of the nightly build, for a "data freshness" tile in Power BI.
-- A view, so it shows the run log as it is now (including a run in progress).
{{ config(materialized='view') }}

with

runs as (
    select * from {{ ref('stg_ops__build_runs') }}
),

runs_with_newest as (
    select
        *,
        max(started_at) over () as newest_started_at
    from runs
),

final as (
    select
        run_id,
        started_at,
        finished_at,
        run_status,
        exit_code,
        run_status in ('success', 'partial') as has_refreshed_marts,
        is_full_refresh,
        used_sample_data,
        files_landed,
        files_skipped,
        files_refused,
        rows_loaded,
        rows_quarantined,
        dbt_nodes_passed,
        dbt_nodes_warned,
        dbt_nodes_failed,
        dbt_nodes_skipped,
        stale_marts,
        stale_sources,
        duration_seconds,
        error_text
    from runs_with_newest
    where started_at >= newest_started_at - interval '{{ var("ops_build_runs_days", 90) }} days'
)

select * from final
