{#-
    The rows of one item_type of int_sales_items_abc_classified, and the ABC
    columns every ABC mart (abc_countries, abc_products) shows of them.
-#}
{% macro abc_items_of(item_type) -%}
    select * from {{ ref('int_sales_items_abc_classified') }}
    where item_type = '{{ item_type }}'
{%- endmacro %}

{% macro abc_columns() -%}
    cast(revenue as numeric(18, 3)) as revenue,
    cast(revenue_share as numeric(9, 6)) as revenue_share,
    cast(cumulative_share as numeric(9, 6)) as cumulative_share,
    revenue_rank,
    abc_class
{%- endmacro %}
