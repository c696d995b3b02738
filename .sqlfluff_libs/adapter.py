"""Stand-in for dbt's ``adapter``, for sqlfluff's jinja templater only.

``adapter.dispatch(name, ...)`` returns what the PostgreSQL (default__)
implementation of the project's macros in macros/cross_db.sql renders, so the
linter parses the SQL PostgreSQL runs.
"""


def _type_number(precision=None, scale=None):
    return "numeric" if precision is None else f"numeric({precision}, {scale})"


def _series_join(start, stop, alias, column, step=None):
    interval = ", interval '1 month'" if step == "month" else ""
    return f"cross join lateral generate_series({start}, {stop}{interval}) as {alias} ({column})"


def _regexp_replace_all(expression, pattern, replacement):
    return f"regexp_replace({expression}, '{pattern}', '{replacement}', 'g')"


_POSTGRES = {
    "regexp_replace_all": _regexp_replace_all,
    "collate_c": lambda expression: f'{expression} collate "C"',
    "format_one_decimal": lambda expression: f"to_char({expression}, 'FM990.0')",
    "type_number": _type_number,
    "count_as_number": lambda expression: f"cast({expression} as numeric)",
    "type_text": lambda: "text",
    "series_join": _series_join,
    "iso_weekday": lambda expression: f"cast(extract(isodow from {expression}) as integer)",
}


def dispatch(name, macro_namespace=None):
    return _POSTGRES[name]


def quote(identifier):
    return f'"{identifier}"'
