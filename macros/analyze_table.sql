{#-
    Post-hook: refresh the planner's statistics of a model built as a table
    (or an incremental one rebuilt with --full-refresh), so
    the models and tests that read it next are planned from its real size (a
    table made by CREATE TABLE AS has none until autovacuum gets to it). Views
    have nothing to analyze: the hook is then a no-op (dbt cannot run an empty one).
-#}
{% macro analyze_table() -%}
    {{ return(adapter.dispatch('analyze_table', 'segmart')()) }}
{%- endmacro %}

{% macro default__analyze_table() -%}
    {#- an incremental run adds a few rows: autovacuum's analyze suffices, and
        sampling a large table on every daily run would cost more than it saves -#}
    {%- if model.config.materialized == 'table'
        or (model.config.materialized == 'incremental' and flags.FULL_REFRESH) -%}
        analyze {{ this }}
    {%- else -%}
        select 1 as nothing_to_analyze
    {%- endif -%}
{%- endmacro %}

{#- Spark's optimizer reads table statistics the same way (row count, size). -#}
{% macro spark__analyze_table() -%}
    {%- if model.config.materialized == 'table' -%}
        analyze table {{ this }} compute statistics
    {%- else -%}
        select 1 as nothing_to_analyze
    {%- endif -%}
{%- endmacro %}
