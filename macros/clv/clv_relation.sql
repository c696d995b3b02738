{#-
    A table of segmart's CLV step (schema `clv`, written after the first dbt
    pass of `segmart build`), or an empty relation of its shape when the step
    has not run yet (a `dbt build` by hand on a fresh database). `source()` is
    called either way, so the dependency is in the DAG.
-#}
{% macro clv_relation(table_name, columns) -%}
    {%- set relation = source('clv', table_name) -%}
    {%- if execute and adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) is none -%}
        (
            select
                {%- for name, data_type in columns.items() %}
                    cast(null as {{ data_type }}) as {{ name }}{{ "," if not loop.last }}
                {%- endfor %}
            where false
        )
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
