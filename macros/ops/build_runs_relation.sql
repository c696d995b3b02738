{#-
    The run log table, or an empty relation of its shape when no `segmart
    build` has created it yet (a `dbt build` by hand on a fresh database).
    `source()` is called either way, so the dependency is in the DAG.
-#}
{% macro ops_build_runs_relation() -%}
    {%- set relation = source('ops', 'build_runs') -%}
    {%- if execute and adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) is none -%}
        (
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
        )
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
