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

    @property
    def header_key(self) -> frozenset[str]:
        return frozenset(normalise_header(field.header) for field in self.fields)

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

SALES_FORMATS = (UCI, UCI2, ONEC)
BANK_FORMATS = (BANK_CLIENTS, BANK_USAGE)
ALL_FORMATS = {fmt.name: fmt for fmt in (*SALES_FORMATS, *BANK_FORMATS)}


def describe_expected(formats: tuple[Format, ...]) -> str:
    return "; ".join(f"{fmt.description} ({fmt.name}): {', '.join(f.header for f in fmt.fields)}" for fmt in formats)
