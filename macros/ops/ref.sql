{#-
    ref(), except while the marts are built beside the live ones (see
    generate_schema_name): a mart this run does not rebuild (its area had no
    new loads, or a seed of an unchanged project) has no copy in the build
    schema, and is read where it is published, in `data_mart`.

    A mart that does have a copy there is read there: the marts of this run,
    and the incremental marts, which publishing moves back into the build
    schema as the base of the next increment (whenever something reads them,
    their area is in the run, so they are rebuilt first).
-#}
{% macro ref() %}
    {#- sqlfluff's jinja templater has no `builtins`: there the model name stands in -#}
    {%- if builtins is not defined -%}
        {%- do return(varargs | last) -%}
    {%- endif -%}
    {%- set relation = builtins.ref(*varargs, **kwargs) -%}
    {%- set build_schema = segmart_mart_build_schema() -%}
    {%- if execute and build_schema and relation is not none and relation.schema == build_schema -%}
        {%- if adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
            {%- do return(relation.incorporate(path={'schema': 'data_mart'})) -%}
        {%- endif -%}
    {%- endif -%}
    {%- do return(relation) -%}
{% endmacro %}
