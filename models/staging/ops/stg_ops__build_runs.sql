-- The run log as written by `segmart build`. The build creates ops.build_runs
-- before dbt runs; a `dbt build` by hand on a database no build has touched
-- yet gets an empty relation of the same shape instead of an error.
{%- set run_table = adapter.get_relation(database=target.database, schema='ops', identifier='build_runs') %}

with

{% if run_table is not none %}
source as (
    select * from {{ source('ops', 'build_runs') }}
),
{% else %}
source as (
    select
        cast(null as bigint) as run_id,
        cast(null as timestamptz) as started_at,
        cast(null as timestamptz) as finished_at,
        cast(null as text) as status,
        cast(null as integer) as exit_code,
        cast(null as text) as host_name,
        cast(null as boolean) as full_refresh,
        cast(null as boolean) as used_sample,
        cast(null as integer) as files_landed,
        cast(null as integer) as files_skipped,
        cast(null as integer) as files_refused,
        cast(null as bigint) as rows_loaded,
        cast(null as bigint) as rows_quarantined,
        cast(null as integer) as dbt_passed,
        cast(null as integer) as dbt_warned,
        cast(null as integer) as dbt_failed,
        cast(null as integer) as dbt_skipped,
        cast(null as text) as stale_marts,
        cast(null as text) as stale_sources,
        cast(null as numeric(12, 1)) as duration_seconds,
        cast(null as text) as error_text,
        cast(null as text) as log_file
    where false
),
{% endif %}

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
