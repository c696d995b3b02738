"""Input formats: which header they have, where they land, how each field is checked.

A converter takes the raw field text and returns it in the form PostgreSQL's
COPY text format accepts (``\\N`` for NULL) or raises ``ValueError`` with the
reason the row is quarantined. Converters are strict: whatever they pass, the
COPY into the typed staging table accepts, so one bad row can never fail a
whole file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

NULL = "\\N"
Converter = Callable[[str], str]

# re.ASCII: \d must not match other scripts' digits, which PostgreSQL rejects
_INT_RE = re.compile(r"[+-]?\d+", re.ASCII)
_INT_WITH_ZERO_FRACTION_RE = re.compile(r"([+-]?\d+)\.0+", re.ASCII)
_DECIMAL_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?", re.ASCII)
_DOTTED_DATE_RE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?", re.ASCII)
_SLASHED_DATE_RE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?", re.ASCII)
# the white space PostgreSQL's input functions skip (C isspace); str.strip() would
# also drop no-break spaces and the like, which COPY rejects
_WS = " \t\n\r\v\f"
_NEEDS_ESCAPE_RE = re.compile(r"[\\\t\n\r]")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPACES = str.maketrans("", "", " \u00a0\u202f")
INT32 = 2**31 - 1
INT64 = 2**63 - 1
WHOLE_NUMBER_LIMIT = 9_199_999_999_999_999_999
# the staging domains accept dates in [1900, 2200): keep Python as strict
FIRST_YEAR, END_YEAR = 1900, 2200


def copy_escape(value: str) -> str:
    """``value`` as a field of COPY's text format (backslash, tab and line breaks escaped)."""
    if _NEEDS_ESCAPE_RE.search(value):
        return value.translate(_ESCAPES)
    return value


_UNESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def copy_unescape(value: str) -> str:
    """The text a COPY text-format field (as ``copy_escape`` writes it) stands for."""
    if "\\" not in value:
        return value
    return _UNESCAPE_RE.sub(lambda match: _UNESCAPES.get(match.group(1), match.group(1)), value)


def text(value: str) -> str:
    """Optional text, kept as written (dbt trims); empty becomes NULL."""
    if not value:
        return NULL
    return copy_escape(value)


def required_text(value: str) -> str:
    if not value.strip(" "):  # as the domain: btrim(value) <> ''
        raise ValueError("empty required field")
    return text(value)


def _integer(value: str, low: int, high: int) -> str:
    value = value.strip(_WS)
    if not _INT_RE.fullmatch(value):
        raise ValueError(f"not an integer: {value[:40]!r}")
    if not low <= int(value) <= high:
        raise ValueError(f"integer out of range: {value[:40]!r}")
    return value


def integer(value: str) -> str:
    return _integer(value, -INT32 - 1, INT32)


def bigint(value: str) -> str:
    return _integer(value, -INT64 - 1, INT64)


def optional_id(value: str) -> str:
    """An optional whole-number id; ``13085.0`` (as spreadsheets write it) is accepted."""
    if not value:  # only an empty field is NULL, as for COPY
        return NULL
    value = value.strip(_WS)
    whole = _INT_WITH_ZERO_FRACTION_RE.fullmatch(value)
    # the domain (staging.whole_number) allows abs(value) < 9.2e18
    return _integer(whole.group(1) if whole else value, -WHOLE_NUMBER_LIMIT, WHOLE_NUMBER_LIMIT)


def decimal(value: str) -> str:
    """A number as PostgreSQL reads it: decimal point, optional exponent."""
    value = value.strip(_WS)
    if not _DECIMAL_RE.fullmatch(value) or len(value) > 40:
        raise ValueError(f"not a number: {value[:40]!r}")
    return value


def optional_integer(value: str) -> str:
    if not value.strip(_WS):
        return NULL
    return integer(value)


def optional_decimal(value: str) -> str:
    if not value:
        return NULL
    return decimal(value)


def decimal_comma(value: str) -> str:
    """A number as 1C and Excel write it: decimal comma, spaces between thousands."""
    return decimal(value.translate(_SPACES).replace(",", "."))


def _datetime_text(value: str) -> str:
    value = value.strip(_WS)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        match = _DOTTED_DATE_RE.fullmatch(value)
        day_first = True
        if match is None:
            match = _SLASHED_DATE_RE.fullmatch(value)
            day_first = False  # UCI's own export writes M/D/YYYY
        if match is None:
            raise ValueError(f"not a date/time: {value[:40]!r}") from None
        first, second, year, hour, minute, second_of_minute = match.groups()
        day, month = (first, second) if day_first else (second, first)
        try:
            parsed = datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second_of_minute or 0)
            )
        except ValueError as exc:
            raise ValueError(f"impossible date/time: {value[:40]!r} ({exc})") from None
    if parsed.tzinfo is not None:
        raise ValueError(f"date/time with a time zone is not expected: {value[:40]!r}")
    if not FIRST_YEAR <= parsed.year < END_YEAR:
        raise ValueError(f"date outside {FIRST_YEAR}-{END_YEAR - 1}: {value[:40]!r}")
    return parsed.isoformat(sep=" ")


def timestamp(value: str) -> str:
    if not value.strip():
        raise ValueError("empty required date/time")
    return _datetime_text(value)


def optional_timestamp(value: str) -> str:
    if not value.strip():
        return NULL
    return _datetime_text(value)


def calendar_date(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("empty required date")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        stamp = _datetime_text(value)
        if not stamp.endswith("00:00:00"):
            raise ValueError(f"a date was expected, found a date and time: {value[:40]!r}") from None
        return stamp[:10]
    if not FIRST_YEAR <= parsed.year < END_YEAR:
        raise ValueError(f"date outside {FIRST_YEAR}-{END_YEAR - 1}: {value[:40]!r}")
    return parsed.isoformat()


def one_of(*allowed: str) -> Converter:
    lowered = {item.lower(): item for item in allowed}

    def convert(value: str) -> str:
        found = lowered.get(value.strip().lower())
        if found is None:
            raise ValueError(f"{value.strip()[:40]!r} is not one of {', '.join(allowed)}")
        return found

    return convert


@dataclass(frozen=True)
class Field:
    header: str  # the header as the file spells it
    column: str  # the staging column
    convert: Converter
    # True when COPY cannot read the value as written (decimal comma, a value
    # spelled in another case): the fast path runs ``convert`` on it in Python
    # and sends the result; the server checks the other fields.
    rewrite: bool = False
    # other spellings of the header that name the same column (event logs come
    # from many trackers); the first one present in a file is used
    aliases: tuple[str, ...] = ()
    # False: the file may lack the column; then every row has NULL there
    required: bool = True

    @property
    def spellings(self) -> tuple[str, ...]:
        return tuple(normalise_header(name) for name in (self.header, *self.aliases))


@dataclass(frozen=True)
class Format:
    name: str
    target: str  # staging table (and the idempotency scope)
    fields: tuple[Field, ...]
    description: str
    # True when PostgreSQL's COPY can read the values as written (decimal point,
    # dates in ``datestyle``) once the ``rewrite`` fields are converted, so the
    # fast path may be tried.
    copy_native: bool = True
    datestyle: str = "ISO, MDY"

    def field_named(self, name: str) -> Field | None:
        """The field a (normalised) header names, under its own spelling or an alias."""
        for fmt_field in self.fields:
            if name in fmt_field.spellings:
                return fmt_field
        return None

    def locate(self, names: list[str]) -> list[int | None] | None:
        """Each field's position among the normalised header ``names`` (None: an optional field absent).

        None when a required field is missing or two columns name the same field.
        """
        positions: list[int | None] = []
        for fmt_field in self.fields:
            found = [index for index, name in enumerate(names) if name in fmt_field.spellings]
            if len(found) > 1:
                return None
            if not found and fmt_field.required:
                return None
            positions.append(found[0] if found else None)
        return positions

    def missing(self, names: list[str]) -> list[str]:
        """The required fields none of whose spellings is among ``names``, as the format spells them."""
        return [f.header for f in self.fields if f.required and not any(spelling in names for spelling in f.spellings)]

    @property
    def columns(self) -> list[str]:
        return [field.column for field in self.fields]


def normalise_header(name: str) -> str:
    """Compare headers ignoring case, spaces, underscores and a BOM."""
    return re.sub(r"[\s_\-\ufeff\"]", "", name).lower()


def _uci_fields(invoice: str, price: str, customer: str) -> tuple[Field, ...]:
    return (
        Field(invoice, "invoice_no", required_text),
        Field("StockCode", "stock_code", required_text),
        Field("Description", "description", text),
        Field("Quantity", "quantity", integer),
        Field("InvoiceDate", "invoice_date", timestamp),
        Field(price, "unit_price", decimal),
        Field(customer, "customer_id", optional_id),
        Field("Country", "country", text),
    )


UCI = Format(
    "uci",
    "sales_uci_lines",
    _uci_fields("InvoiceNo", "UnitPrice", "CustomerID"),
    "UCI Online Retail CSV",
)
UCI2 = Format(
    "uci2",
    "sales_uci_lines",
    _uci_fields("Invoice", "Price", "Customer ID"),
    "UCI Online Retail II CSV",
)
ONEC = Format(
    "onec",
    "sales_onec_lines",
    (
        Field("date", "date", timestamp),
        Field("sale_id", "sale_id", required_text),
        Field("order_date", "order_date", optional_timestamp),
        Field("order_id", "order_id", text),
        Field("buyer", "buyer", text),
        Field("contractor", "contractor", text),
        Field("site_id", "site_id", text),
        Field("product", "product", required_text),
        Field("feature", "feature", text),
        Field("quantity", "quantity", decimal_comma, rewrite=True),
        Field("sum", "sum", decimal_comma, rewrite=True),
        Field("address", "address", text),
        Field("cash_flow_type", "cash_flow_type", one_of("продажа", "возврат"), rewrite=True),
    ),
    '1C:ERP "Реализация" line export',
    datestyle="ISO, DMY",
)
BANK_CLIENTS = Format(
    "bank_clients",
    "bank_clients",
    (
        Field("client_id", "client_id", bigint),
        Field("full_name", "full_name", text),
        Field("income", "income", optional_decimal),
    ),
    "bank clients CSV",
)
BANK_USAGE = Format(
    "bank_usage",
    "bank_product_usage",
    (
        Field("usage_id", "usage_id", bigint),
        Field("client_id", "client_id", bigint),
        Field("product_name", "product_name", required_text),
        Field("usage_date", "usage_date", calendar_date),
    ),
    "bank product-usage CSV",
)

# One row per event of a web or app tracker. Trackers name their columns in many
# ways: the usual spellings are accepted; user attributes may be absent.
EVENTS = Format(
    "events",
    "events",
    (
        Field("user_id", "user_id", required_text, aliases=("user", "uid", "client_id", "customer_id", "visitor_id")),
        Field(
            "event_time",
            "event_time",
            timestamp,
            aliases=("event_timestamp", "event_at", "timestamp", "datetime", "time", "ts"),
        ),
        Field("event_type", "event_type", required_text, aliases=("event", "event_name", "action", "type")),
        Field(
            "value",
            "value",
            optional_decimal,
            aliases=("revenue", "amount", "order_value", "price", "sum"),
            required=False,
        ),
        Field(
            "category",
            "category",
            text,
            aliases=("category_name", "category_code", "product_category"),
            required=False,
        ),
        Field("city", "city", text, aliases=("user_city",), required=False),
        Field("gender", "gender", text, aliases=("sex",), required=False),
        Field("age", "age", optional_integer, aliases=("user_age",), required=False),
        Field("child_age", "child_age", optional_integer, aliases=("kid_age", "age_of_child"), required=False),
    ),
    "event log CSV",
)

SALES_FORMATS = (UCI, UCI2, ONEC)
BANK_FORMATS = (BANK_CLIENTS, BANK_USAGE)
EVENT_FORMATS = (EVENTS,)
# the inbox folder (and load command) of each kind of export
FORMATS_BY_KIND: dict[str, tuple[Format, ...]] = {
    "sales": SALES_FORMATS,
    "bank": BANK_FORMATS,
    "events": EVENT_FORMATS,
}
ALL_FORMATS = {fmt.name: fmt for formats in FORMATS_BY_KIND.values() for fmt in formats}


def kind_of(fmt: Format) -> str:
    return next(kind for kind, formats in FORMATS_BY_KIND.items() if fmt in formats)


def kind_phrase(kind: str) -> str:
    """'a sales export', 'an event log': what a file of the kind is, in a message."""
    return "an event log" if kind == "events" else f"a {kind} export"


def file_phrase(fmt: Format) -> str:
    """'a bank clients CSV, a bank export', 'an event log CSV': what a file of ``fmt`` is."""
    kind = kind_of(fmt)
    if kind == "events":
        return f"an {fmt.description}"
    return f"a {fmt.description}, {kind_phrase(kind)}"


def _described(fmt_field: Field) -> str:
    return fmt_field.header if fmt_field.required else f"[{fmt_field.header}]"


def describe_expected(formats: tuple[Format, ...]) -> str:
    """The formats and their columns; [optional] ones in brackets."""
    return "; ".join(f"{fmt.description} ({fmt.name}): {', '.join(map(_described, fmt.fields))}" for fmt in formats)
