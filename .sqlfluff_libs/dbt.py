"""Stand-ins for dbt's cross-database macros, for sqlfluff's jinja templater only.

sqlfluff lints without a database, so it cannot run dbt itself; these return
what dbt-postgres renders, close enough for the linter to parse the SQL.
"""


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def datediff(first_date, second_date, datepart):
    return f"(({second_date})::date - ({first_date})::date)"


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"({from_date_or_timestamp} + (({interval}) * interval '1 {datepart}'))"


def safe_cast(field, type):
    return f"cast({field} as {type})"


def type_string():
    return "text"


def type_int():
    return "integer"


def type_bigint():
    return "bigint"


def type_numeric():
    return "numeric"


def type_timestamp():
    return "timestamp"


def last_day(date, datepart):
    return f"(date_trunc('{datepart}', {date}) + interval '1 {datepart}' - interval '1 day')::date"


def current_timestamp():
    return "now()"


def concat(fields):
    return "(" + " || ".join(fields) + ")"
