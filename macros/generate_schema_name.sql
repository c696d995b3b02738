{#-
    Use a model's custom schema name verbatim (`data_mart`, not
    `<target schema>_data_mart`), so Power BI always finds the same schema
    whatever target built it.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
