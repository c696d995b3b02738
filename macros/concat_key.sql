{#-
    A key made of several parts, joined by the project's one key separator,
    `|`: document_key `uci|536365`, sales_line_id `uci|1|42`. Null when a part
    is null, so a key is never built from part of its parts.
-#}
{% macro concat_key(parts) -%}
    {%- for part in parts -%}
        {{ part }}{{ " || '|' || " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
