{#-
    Post-hook: refresh the planner's statistics of a model built as a table, so
    the models and tests that read it next are planned from its real size (a
    table made by CREATE TABLE AS has none until autovacuum gets to it). Views
    have nothing to analyze: the hook is then a no-op (dbt cannot run an empty one).
-#}
{% macro analyze_table() -%}
    {%- if model.config.materialized in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- else -%}
        select 1 as nothing_to_analyze
    {%- endif -%}
{%- endmacro %}
