{#-
    Use a model's custom schema name verbatim (`data_mart`, not
    `<target schema>_data_mart`), so Power BI always finds the same schema
    whatever target built it.

    The nightly job (`run.py build`) writes, audits, then publishes: it sets
    SEGMART_MART_BUILD_SCHEMA, and everything bound for `data_mart` is built
    there instead (and tested there); segmart/ops/publish.py then moves the
    marts of the run into `data_mart` in one transaction. A plain `dbt build`
    leaves it unset and builds `data_mart` directly, as dbt always does.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif custom_schema_name | trim == 'data_mart' and segmart_mart_build_schema() -%}
        {{ segmart_mart_build_schema() }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

{#- The schema the marts are built and audited in before they are published, or '' (build in place). -#}
{% macro segmart_mart_build_schema() -%}
    {{- env_var('SEGMART_MART_BUILD_SCHEMA', '') | trim -}}
{%- endmacro %}
