{#-
    What PostgreSQL and Spark SQL spell differently, for the models that build
    on both engines (docs/spark.md). Each macro dispatches to a postgres__ (the
    default__) and a spark__ implementation; the PostgreSQL SQL is what the
    models wrote before.
-#}

{#-
    An exact number type. Bare `numeric` is arbitrary precision on PostgreSQL
    but decimal(10, 0) on Spark, which would drop the cents: there the default
    is decimal(24, 9), the type the Parquet landing writes, so a quantity
    (decimal(10, 0)) times a price stays within Spark's 38 digits, exact.
-#}
{% macro type_number(precision=none, scale=none) -%}
    {{ return(adapter.dispatch('type_number', 'segmart')(precision, scale)) }}
{%- endmacro %}

{% macro default__type_number(precision, scale) -%}
    numeric{{ '(' ~ precision ~ ', ' ~ scale ~ ')' if precision is not none }}
{%- endmacro %}

{% macro spark__type_number(precision, scale) -%}
    decimal({{ precision if precision is not none else 24 }}, {{ scale if scale is not none else 9 }})
{%- endmacro %}

{#-
    A count as an exact number to divide by (shares, rates, scores). Spark
    gives a division of decimal(20, 0) by decimal(20, 0) 18 decimals, as many
    as PostgreSQL's numeric division keeps for these values; a wider type
    would leave only 6 and change the rounding of shares.
-#}
{% macro count_as_number(expression) -%}
    {{ return(adapter.dispatch('count_as_number', 'segmart')(expression)) }}
{%- endmacro %}

{% macro default__count_as_number(expression) -%}
    cast({{ expression }} as numeric)
{%- endmacro %}

{% macro spark__count_as_number(expression) -%}
    cast({{ expression }} as decimal(20, 0))
{%- endmacro %}

{#- Text: `text` on PostgreSQL, `string` on Spark. -#}
{% macro type_text() -%}
    {{ return(adapter.dispatch('type_text', 'segmart')()) }}
{%- endmacro %}

{% macro default__type_text() -%}
    text
{%- endmacro %}

{% macro spark__type_text() -%}
    string
{%- endmacro %}

{#-
    A series joined to each row of the relation before it in the FROM clause:
    one row per value from `start` to `stop` (inclusive), as `alias.column`.
    Whole numbers by 1, or, with step='month', dates one calendar month apart.
    PostgreSQL: a lateral generate_series (its month series are timestamps:
    the caller casts). Spark: LATERAL VIEW explode(sequence(...)), which must
    directly follow the relation it expands.
-#}
{% macro series_join(start, stop, alias, column, step=none) -%}
    {{ return(adapter.dispatch('series_join', 'segmart')(start, stop, alias, column, step)) }}
{%- endmacro %}

{% macro default__series_join(start, stop, alias, column, step) -%}
    cross join lateral generate_series(
        {{ start }}, {{ stop }}{{ ", interval '1 month'" if step == 'month' }}
    ) as {{ alias }} ({{ column }})
{%- endmacro %}

{% macro spark__series_join(start, stop, alias, column, step) -%}
    lateral view explode(sequence(
        {{ start }}, {{ stop }}{{ ', interval 1 month' if step == 'month' }}
    )) {{ alias }} as {{ column }}
{%- endmacro %}

{#-
    Every match of the regular expression `pattern` (as written, backslashes
    and all) in `expression` replaced. PostgreSQL needs the 'g' flag; Spark
    replaces every match and reads the pattern from a raw string literal.
-#}
{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'segmart')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, r'{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{#- Text ordered by code point (PostgreSQL's "C" collation; Spark's default). -#}
{% macro collate_c(expression) -%}
    {{ return(adapter.dispatch('collate_c', 'segmart')(expression)) }}
{%- endmacro %}

{% macro default__collate_c(expression) -%}
    {{ expression }} collate "C"
{%- endmacro %}

{% macro spark__collate_c(expression) -%}
    {{ expression }}
{%- endmacro %}

{#- A non-negative number with one decimal, rounded half up, as text: '12.5'. -#}
{% macro format_one_decimal(expression) -%}
    {{ return(adapter.dispatch('format_one_decimal', 'segmart')(expression)) }}
{%- endmacro %}

{% macro default__format_one_decimal(expression) -%}
    to_char({{ expression }}, 'FM990.0')
{%- endmacro %}

{% macro spark__format_one_decimal(expression) -%}
    {#- format_string('%.1f') takes no decimal; round() of a decimal rounds half up, as to_char -#}
    cast(round({{ expression }}, 1) as string)
{%- endmacro %}

{#- The ISO day of the week of a date: 1 = Monday ... 7 = Sunday (Spark's dayofweek counts from Sunday). -#}
{% macro iso_weekday(expression) -%}
    {{ return(adapter.dispatch('iso_weekday', 'segmart')(expression)) }}
{%- endmacro %}

{% macro default__iso_weekday(expression) -%}
    cast(extract(isodow from {{ expression }}) as integer)
{%- endmacro %}

{% macro spark__iso_weekday(expression) -%}
    ((dayofweek({{ expression }}) + 5) % 7 + 1)
{%- endmacro %}

{#-
    An amount of money (two decimals) divided by a count or another amount,
    NULL when the divisor is 0, exact to 20 decimals on both engines before the
    caller rounds it. Spark sizes a decimal quotient from its operands' types:
    a sum of money (decimal(38, 2)) over a count keeps only 6 decimals there,
    and rounding that again to 4 differs from PostgreSQL's one rounding.
-#}
{% macro money_ratio(amount, divisor) -%}
    cast({{ amount }} as {{ type_number(18, 2) }}) / nullif(cast({{ divisor }} as {{ type_number(20, 2) }}), 0)
{%- endmacro %}
