{#-
    The project's superseding rule for keyed staging rows: among the rows of a
    key, the newest load wins, and within one load the last line. Emits
    `row_rank` (1 = the winner) and `staged_row_count` (rows of the key in
    staging), for models that keep `row_rank = 1`.
-#}
{% macro newest_load_rank(key) -%}
    row_number() over (
        partition by {{ key }}
        order by load_id desc, line_number desc
    ) as row_rank,
    count(*) over (partition by {{ key }}) as staged_row_count
{%- endmacro %}
