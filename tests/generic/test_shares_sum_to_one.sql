{#-
    Per group (e.g. per source), each of the share columns adds up to 1
    within `tolerance`. A share column that is null on every row of a group
    (nothing to share, e.g. a total of 0) passes.
-#}
{% test shares_sum_to_one(model, share_columns, group_by, tolerance=1e-9) %}

with

totals as (
    select
        {{ group_by | join(', ') }},
        {% for column in share_columns -%}
            sum({{ column }}) as {{ column }}_total{% if not loop.last %},{% endif %}
        {% endfor %}
    from {{ model }}
    group by {{ group_by | join(', ') }}
)

select *
from totals
where
    {% for column in share_columns -%}
        abs(coalesce({{ column }}_total, 1) - 1) > {{ tolerance }}{% if not loop.last %} or {% endif %}
    {% endfor %}

{% endtest %}
