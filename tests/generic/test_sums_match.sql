{#-
    The total of column_name in this model equals the total of compare_column
    in compare_model (rounded to `precision` decimals): reconciliation.
-#}
{% test sums_match(model, column_name, compare_model, compare_column, precision=2) %}

with

totals as (
    select
        (select round(coalesce(sum({{ column_name }}), 0)::numeric, {{ precision }}) from {{ model }}) as model_total,
        (
            select round(coalesce(sum({{ compare_column }}), 0)::numeric, {{ precision }})
            from {{ compare_model }}
        ) as compare_total
)

select *
from totals
where model_total <> compare_total

{% endtest %}
