{#-
    A share rounded to `places` decimals so that the shares of one partition
    still add up to exactly 1 (largest-remainder rounding): every share is
    truncated, and the units the truncation lost go, one each, to the shares
    that lost the most (ties by `tie_breaker`). For non-negative shares of one
    whole, e.g. the slices of a pie chart. Null shares stay null.
    Uses window functions: call it in a select over the whole partition.
-#}
{% macro fixed_share(share, partition_by, tie_breaker, places=6) -%}
    {%- set scale = 10 ** places -%}
    {%- set scaled = '(' ~ share ~ ') * ' ~ scale -%}
    cast(
        (
            floor({{ scaled }})
            + case
                when
                    row_number() over (
                        partition by {{ partition_by }}
                        order by {{ scaled }} - floor({{ scaled }}) desc nulls last, {{ tie_breaker }}
                    )
                    <= {{ scale }} - sum(floor({{ scaled }})) over (partition by {{ partition_by }})
                    then 1
                else 0
            end
        ) / {{ scale }}
        as numeric({{ places + 3 }}, {{ places }})
    )
{%- endmacro %}
