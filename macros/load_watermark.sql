{#-
    The newest load an incremental model has already processed, as a literal
    (0 on a full build). A literal rather than a subquery lets PostgreSQL use
    the staging tables' load_id indexes when it looks for newer loads; the
    model keeps a btree index on the column so max() is an index lookup.
-#}
{% macro load_watermark(column='newest_load_id') -%}
    {%- if execute and is_incremental() -%}
        {%- set result = run_query('select coalesce(max(' ~ column ~ '), 0) from ' ~ this) -%}
        {{ result.columns[0].values()[0] }}
    {%- else -%}
        0
    {%- endif -%}
{%- endmacro %}


{#- The rows of `relation` from loads newer than the model's watermark (all rows on a full build). -#}
{% macro rows_since_watermark(relation) -%}
    select * from {{ relation }}
    {% if is_incremental() %}
        where newest_load_id > {{ load_watermark() }}
    {% endif %}
{%- endmacro %}
