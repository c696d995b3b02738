"""A corpus of hostile sales exports, each with the outcome the loader must reach.

Every case writes one file into a directory and declares what a load of it
must give: how many rows land, which lines are quarantined and why (the
reason's first word or field name), how many blank lines are skipped, the
typed values of chosen lines, and whether the COPY fast path can take it, or
else that the whole file fails and at which line. The expectations are worked
out from the bytes written here, never from what the loader produced.

Usage: ``for case in CASES: path = case.write(tmp_dir)``.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import random
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

UCI_HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
UCI2_HEADER = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country"]
ONEC_HEADER = [
    "date",
    "sale_id",
    "order_date",
    "order_id",
    "buyer",
    "contractor",
    "site_id",
    "product",
    "feature",
    "quantity",
    "sum",
    "address",
    "cash_flow_type",
]

# Well-formed UCI rows as the original export writes them (M/D/YYYY H:MM).
GOOD = [
    [
        "536365",
        "85123A",
        "WHITE HANGING HEART T-LIGHT HOLDER",
        "6",
        "12/1/2010 8:26",
        "2.55",
        "17850",
        "United Kingdom",
    ],
    ["536365", "71053", "WHITE METAL LANTERN", "6", "12/1/2010 8:26", "3.39", "17850", "United Kingdom"],
    ["536366", "22633", "HAND WARMER UNION JACK", "6", "12/1/2010 8:28", "1.85", "", "United Kingdom"],
    ["C536379", "D", "Discount", "-1", "12/1/2010 9:41", "27.5", "14527", "United Kingdom"],
    ["536367", "84879", "ASSORTED COLOUR BIRD ORNAMENT", "32", "1/13/2011 14:05", "1.69", "13047.0", "France"],
]
# The typed values of GOOD, worked out by hand.
GOOD_TYPED = [
    {
        "invoice_no": "536365",
        "quantity": 6,
        "invoice_date": datetime(2010, 12, 1, 8, 26),
        "unit_price": Decimal("2.55"),
    },
    {"stock_code": "71053", "unit_price": Decimal("3.39"), "customer_id": Decimal(17850)},
    {"invoice_no": "536366", "customer_id": None, "description": "HAND WARMER UNION JACK"},
    {
        "invoice_no": "C536379",
        "quantity": -1,
        "invoice_date": datetime(2010, 12, 1, 9, 41),
        "unit_price": Decimal("27.5"),
    },
    {"quantity": 32, "invoice_date": datetime(2011, 1, 13, 14, 5), "customer_id": Decimal(13047), "country": "France"},
]

# Values that try to break SQL, COPY or CSV handling; each must land exactly as written.
HOSTILE_TEXTS = [
    "'; drop table staging.sales_uci_lines; --",
    'He said "hi", then left',
    "back\\slash \\N \\\\ end\\",
    "tab\there",
    "multi\nline\nvalue",
    "before\n\\.\nafter",
    "\\.",
    "\\N",
    "NULL",
    "gift 🎁 für Søren — «ёлка»",
    "  spaces kept  ",
    '"',
    "semi;colon, comma",
    "$(touch /tmp/pwned) `id`",
    "%s %(name)s {0} %%",
]

# File names that try to break SQL, the shell or logging; every one must load.
HOSTILE_NAMES = [
    "x'; drop table staging.sales_uci_lines; --.csv",
    'quote"name.csv',
    "back\\slash.csv",
    "tab\tname.csv",
    "new\nline.csv",
    "$(touch pwned).csv",
    "-starts-with-dash.csv",
    "пробелы и кириллица.csv",
    "%s%n%x.csv",
]


@dataclass(frozen=True)
class Expect:
    """What a load of the case's file must give (on either path, unless said otherwise)."""

    loaded: int = 0
    quarantined: dict[int, str] = field(default_factory=dict)  # line number -> reason starts with
    blank_lines: int = 0
    fmt: str | None = "uci"
    values: dict[int, dict[str, object]] = field(default_factory=dict)  # line number -> column -> value
    raw: dict[int, str] = field(default_factory=dict)  # line number -> exact quarantined raw_line
    fast: bool | None = None  # True: the fast path must take it; False: it must fall back; None: either
    failure_line: int | None = None  # set: the whole file fails at this line (0: as a whole, no line)
    failure_text: str = ""  # ... with a problem containing this

    @property
    def fails(self) -> bool:
        return self.failure_line is not None

    @property
    def read(self) -> int:
        return self.loaded + len(self.quarantined)


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], tuple[str, bytes]]  # directory -> (file name, content)
    expect: Expect | Callable[[bytes], Expect]

    def write(self, directory: Path) -> Path:
        name, content = self.make(directory)
        path = directory / name
        path.write_bytes(content)
        return path

    def expected(self, path: Path) -> Expect:
        return self.expect(path.read_bytes()) if callable(self.expect) else self.expect


def quote(value: str, delimiter: str) -> str:
    """RFC 4180 minimal quoting: a field is quoted when it holds the delimiter, a quote, CR or LF."""
    if any(c in value for c in (delimiter, '"', "\r", "\n")):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_text(rows: Sequence[Sequence[str]], delimiter: str = ",", newline: str = "\n") -> str:
    return "".join(delimiter.join(quote(v, delimiter) for v in fields) + newline for fields in rows)


def uci(rows: Sequence[Sequence[str]], *, header: Sequence[str] = UCI_HEADER, **kwargs: str) -> str:
    return csv_text([header, *rows], **kwargs)


def row(**changes: str) -> list[str]:
    """A copy of GOOD[0] with some fields changed (by header name)."""
    out = list(GOOD[0])
    for name, value in changes.items():
        out[UCI_HEADER.index(name)] = value
    return out


def fully_quoted(rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    return out.getvalue()


def _typed(first_line: int = 2) -> dict[int, dict[str, object]]:
    return {first_line + i: values for i, values in enumerate(GOOD_TYPED)}


def _plain(name: str, text: str, encoding: str = "utf-8") -> Callable[[Path], tuple[str, bytes]]:
    return lambda _directory: (name, text.encode(encoding))


def _raw(name: str, content: bytes) -> Callable[[Path], tuple[str, bytes]]:
    return lambda _directory: (name, content)


# --------------------------------------------------------------------------- cases with byte-level damage


def _binary_junk() -> bytes:
    rng = random.Random(20240607)
    return b"\x00\x01\x02\x03" + rng.randbytes(16_384)


def _xlsx() -> bytes:
    """A damaged spreadsheet (no workbook part) handed over instead of its CSV export."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        book.writestr("xl/worksheets/sheet1.xml", "<worksheet>" + "<row/>" * 2000 + "</worksheet>")
    return out.getvalue()


def _many_good_rows(count: int) -> list[list[str]]:
    return [row(InvoiceNo=str(540000 + i // 10), Quantity=str(1 + i % 7)) for i in range(count)]


def _truncated_gzip() -> bytes:
    packed = gzip.compress(uci(_many_good_rows(20_000)).encode(), mtime=0)
    return packed[: len(packed) * 3 // 5]


def _corrupt_gzip() -> bytes:
    """Damaged deflate data, as a bad disk or transfer leaves it.

    Stored (level 0) deflate blocks, so that the damage is certain to be
    caught where it is: the length check of a block in the middle is broken.
    """
    deflate = zlib.compressobj(0, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    packed = bytearray(deflate.compress(uci(_many_good_rows(20_000)).encode()) + deflate.flush())
    position = 10  # after the gzip header (no name, no time stamp)
    while position < len(packed) // 2:  # each stored block: 1 header byte, LEN, NLEN (= ~LEN), data
        position += 5 + (packed[position + 1] | packed[position + 2] << 8)
    packed[position + 3] ^= 0x01
    try:
        zlib.decompress(bytes(packed), 16 + zlib.MAX_WBITS)
    except zlib.error as exc:
        assert "invalid stored block lengths" in str(exc)
    else:
        raise AssertionError("the damage went unnoticed")
    return bytes(packed)


def _damaged_gzip_expect(content: bytes) -> Expect:
    """The file fails at the first line that cannot be fully decompressed (fed byte by byte to find it)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    lines = 0
    try:
        for i in range(len(content)):
            lines += inflater.decompress(content[i : i + 1]).count(b"\n")
    except zlib.error:
        pass
    assert lines > 1000, "the damage should be well inside the file"
    return Expect(fmt=None, failure_line=lines + 1, failure_text="damaged or cut short")


def _mixed_encodings() -> bytes:
    utf8_rows = [row(Description=f"КРУЖКА «ЗИМА» №{i}", Quantity=str(i + 1)) for i in range(6)]
    lines = uci(utf8_rows).encode("utf-8").splitlines(keepends=True)
    foreign = [
        csv_text([row(Description="ЁЛКА ИЗ cp1251", Quantity="2")]).encode("cp1251"),
        csv_text([row(Description="ПОДСВЕЧНИК", Quantity="3")]).encode("cp1251"),
    ]
    # header, 2 UTF-8 rows, a cp1251 row, 3 UTF-8 rows, a cp1251 row, 1 UTF-8 row
    return b"".join([*lines[:3], foreign[0], *lines[3:6], foreign[1], *lines[6:]])


def _nul_bytes() -> bytes:
    text = uci([GOOD[0], row(Description="AB\x00CD"), GOOD[1]])
    return text.encode()


def _huge_field() -> bytes:
    huge = "X" * (1_100_000)
    return uci([GOOD[0], row(Description=huge), GOOD[1], GOOD[2]]).encode()


# --------------------------------------------------------------------------- cases with text-level damage


def _truncated_last_line() -> str:
    return uci(GOOD[:3]) + "536366,22633,HAND WARMER UNION JACK,6"


def _unclosed_quote() -> str:
    lines = [
        uci(GOOD[:2]),
        "536367,22745,\"POPPY'S PLAYHOUSE BEDROOM ,6,12/1/2010 8:34,2.1,13047,United Kingdom\n",
        csv_text(GOOD[2:4]),
    ]
    return "".join(lines)


def _hostile_values() -> tuple[str, dict[int, dict[str, object]], dict[int, str]]:
    """Hostile descriptions (some spanning lines), then a bad row: its line number must be the physical one."""
    rows = [row(Description=value, Quantity=str(i + 1)) for i, value in enumerate(HOSTILE_TEXTS)]
    rows.append(row(InvoiceNo="'; drop table x; --", StockCode="ABC\\", Country='x"; drop table y; --'))
    rows.append(row(Quantity="not a number"))
    rows.append(row(Description="", Quantity="7"))  # an empty description is NULL
    values: dict[int, dict[str, object]] = {}
    line = 2
    for i, value in enumerate(HOSTILE_TEXTS):
        values[line] = {"description": value, "quantity": i + 1}
        line += value.count("\n") + 1
    values[line] = {"invoice_no": "'; drop table x; --", "stock_code": "ABC\\", "country": 'x"; drop table y; --'}
    quarantined = {line + 1: "Quantity"}
    values[line + 2] = {"description": None, "quantity": 7}
    return uci(rows), values, quarantined


_HOSTILE_TEXT, _HOSTILE_VALUES, _HOSTILE_QUARANTINE = _hostile_values()


def _crlf() -> str:
    rows = [GOOD[0], row(Description="two\r\nlines", Quantity="2"), GOOD[1], row(Quantity="x")]
    return uci(rows, newline="\r\n")


def _lone_cr() -> str:
    rows = [GOOD[0], row(Description="one\rtwo", Quantity="2"), GOOD[1], row(Quantity="x")]
    return uci(rows)


def _lone_cr_unquoted() -> str:
    """A bare CR outside quotes ends a line (as in universal newlines): both halves are broken rows."""
    return _lone_cr().replace('"one\rtwo"', "one\rtwo")


def _blank_lines() -> str:
    return "\n".join(
        [
            ",".join(UCI_HEADER),
            csv_text([GOOD[0]]).rstrip("\n"),
            "",
            csv_text([GOOD[1]]).rstrip("\n"),
            "",
            "",
            csv_text([row(Quantity="x")]).rstrip("\n"),
            csv_text([GOOD[2]]).rstrip("\n"),
            "",
            "",
        ]
    )


_BAD_VALUES = [
    (row(Quantity="zz"), "Quantity"),
    (row(InvoiceDate="2010-13-45 08:00"), "InvoiceDate"),
    (row(UnitPrice="abc"), "UnitPrice"),
    (row(InvoiceNo=""), "InvoiceNo"),
    (row(CustomerID="12.5"), "CustomerID"),
    (row(Quantity="99999999999"), "Quantity"),
    (row(InvoiceDate="1850-01-01 00:00:00"), "InvoiceDate"),
    (row(UnitPrice="NaN"), "UnitPrice"),
    (GOOD[1], ""),
    (row(Quantity="٣"), "Quantity"),  # ARABIC-INDIC DIGIT THREE: a digit to Python, not to PostgreSQL
    (row(UnitPrice="Infinity"), "UnitPrice"),
    (row(InvoiceDate=""), "InvoiceDate"),
    (row(StockCode="   "), "StockCode"),
    (row(Quantity="\u00a05"), "Quantity"),  # no-break space: PostgreSQL does not skip it
    (row(Quantity="-2147483648", CustomerID=" 12346 "), ""),  # the smallest int4; blanks around a number
    (GOOD[2], ""),
]


def _bad_values_expect() -> Expect:
    # one row per line, from line 2: the bad ones name the field that is wrong
    return Expect(
        loaded=3,
        quarantined={i + 2: reason for i, (_, reason) in enumerate(_BAD_VALUES) if reason},
        fast=True,
        values={
            10: GOOD_TYPED[1],
            16: {"quantity": -2147483648, "customer_id": Decimal(12346)},
            17: GOOD_TYPED[2],
        },
    )


def _onec_rows() -> list[list[str]]:
    return [
        [
            "03.01.2023 9:00:28",
            "РН-000001",
            "03.01.2023 7:48:43",
            "ЗК-000001",
            "Интерпрогресс-Строй",
            'ООО "Интерпрогресс-Строй"',
            "1",
            "Чай чёрный «Лукоморье» 100 пак.",
            "",
            "12",
            "2 684,28",
            "170950, г. Тверь, ул. Лесная, д. 1, оф. 33",
            "продажа",
        ],
        [
            "28.02.2023 17:05:00",
            "РН-000002",
            "",
            "",
            "",
            "ИП Петров",
            "",
            "Сыр «Российский»",
            "вес",
            "1,250",
            "1\u00a0049,99",
            "",
            "возврат",
        ],
        [
            "31.12.2023 23:59:59",
            "РН-000003",
            "",
            "",
            "",
            "",
            "",
            "Товар",
            "",
            "1",
            "10,00",
            "",
            "подарок",
        ],
        ["32.01.2023 10:00:00", "РН-000004", "", "", "", "", "", "Товар", "", "1", "5", "", "продажа"],
        ["01.02.2023 10:00:00", "РН-000005", "", "", "", "", "", "Товар", "", "1,5,0", "5", "", "продажа"],
    ]


ONEC_EXPECT = Expect(
    fmt="onec",
    loaded=2,
    quarantined={4: "cash_flow_type", 5: "date", 6: "quantity"},
    fast=True,  # decimal commas and the cash-flow type are converted in Python, the rest by COPY
    values={
        2: {
            "date": datetime(2023, 1, 3, 9, 0, 28),
            "order_date": datetime(2023, 1, 3, 7, 48, 43),
            "sale_id": "РН-000001",
            "contractor": 'ООО "Интерпрогресс-Строй"',
            "quantity": Decimal(12),
            "sum": Decimal("2684.28"),
            "feature": None,
            "cash_flow_type": "продажа",
        },
        3: {
            "date": datetime(2023, 2, 28, 17, 5),
            "order_date": None,
            "quantity": Decimal("1.25"),
            "sum": Decimal("1049.99"),
            "cash_flow_type": "возврат",
        },
    },
)


CASES: list[Case] = [
    Case("empty", _raw("empty.csv", b""), Expect(fmt=None, failure_line=1, failure_text="empty")),
    Case("blank", _raw("blank.csv", b"\n \r\n\t\n"), Expect(fmt=None, failure_line=1, failure_text="empty")),
    Case("header_only", _plain("header_only.csv", uci([])), Expect(loaded=0)),
    Case("header_only_no_newline", _plain("header_no_nl.csv", ",".join(UCI_HEADER)), Expect(loaded=0)),
    Case(
        "binary_junk",
        _raw("junk.csv", _binary_junk()),
        Expect(fmt=None, failure_line=1, failure_text="binary"),
    ),
    # a zip is read as an XLSX workbook whatever its name; this one is damaged
    Case(
        "damaged_xlsx_named_csv",
        _raw("report.csv", _xlsx()),
        Expect(fmt=None, failure_line=0, failure_text="cannot be read as an XLSX workbook"),
    ),
    Case(
        "unknown_header",
        _plain("other.csv", "Date,Amount,Comment\n2020-01-01,5,x\n"),
        Expect(fmt=None, failure_line=1, failure_text="unrecognised header"),
    ),
    Case("truncated_gzip", _raw("cut.csv.gz", _truncated_gzip()), _damaged_gzip_expect),
    Case("corrupt_gzip", _raw("corrupt.csv.gz", _corrupt_gzip()), _damaged_gzip_expect),
    Case(
        "truncated_last_line",
        _plain("truncated.csv", _truncated_last_line()),
        Expect(
            loaded=3,
            quarantined={5: "field count"},
            fast=False,
            values={2: GOOD_TYPED[0], 3: GOOD_TYPED[1], 4: GOOD_TYPED[2]},
        ),
    ),
    Case(
        "repeated_header",
        _plain("repeated_header.csv", uci([*GOOD[:2], UCI_HEADER, *GOOD[2:]])),
        Expect(loaded=5, quarantined={4: "repeated header row"}, fast=True, values={5: GOOD_TYPED[2]}),
    ),
    Case(
        "wrong_column_count",
        _plain("columns.csv", uci([GOOD[0], GOOD[1][:7], [*GOOD[2], "extra"], GOOD[3]])),
        Expect(loaded=2, quarantined={3: "field count", 4: "field count"}, fast=False, values={5: GOOD_TYPED[3]}),
    ),
    Case(
        "mixed_encodings",
        _raw("mixed.csv", _mixed_encodings()),
        Expect(
            loaded=6,
            quarantined={4: "contains", 8: "contains"},
            fast=False,
            values={2: {"description": "КРУЖКА «ЗИМА» №0"}, 9: {"description": "КРУЖКА «ЗИМА» №5", "quantity": 6}},
        ),
    ),
    Case(
        "huge_field",
        _raw("huge.csv", _huge_field()),
        Expect(loaded=3, quarantined={3: "cannot split"}, fast=False, values={4: GOOD_TYPED[1], 5: GOOD_TYPED[2]}),
    ),
    Case(
        "nul_bytes",
        _raw("nul.csv", _nul_bytes()),
        Expect(
            loaded=2,
            quarantined={3: "contains a NUL byte"},
            fast=False,
            raw={3: ",".join(row(Description="AB\\x00CD"))},
            values={4: GOOD_TYPED[1]},
        ),
    ),
    Case(
        "unclosed_quote",
        _plain("unclosed.csv", _unclosed_quote()),
        Expect(loaded=2, quarantined={4: "field count"}, fast=False, values={2: GOOD_TYPED[0]}),
    ),
    Case(
        "hostile_values",
        _plain("hostile.csv", _HOSTILE_TEXT),
        Expect(loaded=len(_HOSTILE_VALUES), quarantined=_HOSTILE_QUARANTINE, fast=True, values=_HOSTILE_VALUES),
    ),
    Case(
        "backslash_dot_line",  # COPY's end-of-data marker on a line of its own must not end the load
        _plain("backslash_dot.csv", uci(GOOD[:2]) + "\\.\n" + csv_text(GOOD[2:])),
        Expect(loaded=5, quarantined={4: "field count"}, fast=False, values={5: GOOD_TYPED[2], 7: GOOD_TYPED[4]}),
    ),
    Case(
        "bom",
        _raw("bom.csv", codecs.BOM_UTF8 + uci(GOOD).encode()),
        Expect(loaded=5, fast=True, values=_typed()),
    ),
    Case(
        "crlf",
        _plain("crlf.csv", _crlf()),
        Expect(
            loaded=3,
            quarantined={6: "Quantity"},
            fast=True,
            values={2: GOOD_TYPED[0], 3: {"description": "two\r\nlines", "quantity": 2}, 5: GOOD_TYPED[1]},
            raw={6: ",".join(row(Quantity="x"))},
        ),
    ),
    Case(
        "lone_carriage_return",
        _plain("cr.csv", _lone_cr()),
        # a lone CR counts as a line break, as in Python's universal newlines
        Expect(loaded=3, quarantined={6: "Quantity"}, values={3: {"description": "one\rtwo"}, 5: GOOD_TYPED[1]}),
    ),
    Case(
        "lone_carriage_return_unquoted",
        _plain("cr_unquoted.csv", _lone_cr_unquoted()),
        Expect(loaded=2, quarantined={3: "field count", 4: "field count", 6: "Quantity"}, fast=False),
    ),
    Case(
        "blank_lines",
        _plain("blank_lines.csv", _blank_lines()),
        Expect(loaded=3, quarantined={7: "Quantity"}, blank_lines=4, fast=False, values={4: GOOD_TYPED[1]}),
    ),
    Case("bad_values", _plain("bad_values.csv", uci([r for r, _ in _BAD_VALUES])), _bad_values_expect()),
    Case(
        "online_retail_ii",
        _plain("retail_ii.csv", uci(GOOD, header=UCI2_HEADER)),
        Expect(fmt="uci2", loaded=5, fast=True, values=_typed()),
    ),
    Case(
        "onec_cp1251_semicolon_decimal_comma",
        _plain("realizaciya.csv", csv_text([ONEC_HEADER, *_onec_rows()], delimiter=";", newline="\r\n"), "cp1251"),
        ONEC_EXPECT,
    ),
    Case(
        "tab_delimited",
        _plain("tabs.tsv", uci(GOOD, delimiter="\t")),
        Expect(loaded=5, fast=True, values=_typed()),
    ),
    Case(
        "uci_cp1251_semicolon",
        _plain(
            "uci_1251.csv",
            uci([row(Description="ЧАШКА, КРАСНАЯ; 0,3 л", Country="Россия"), GOOD[1]], delimiter=";"),
            "cp1251",
        ),
        Expect(loaded=2, fast=True, values={2: {"description": "ЧАШКА, КРАСНАЯ; 0,3 л", "country": "Россия"}}),
    ),
    Case(
        "day_first_dotted_dates",
        _plain(
            "dotted.csv",
            uci([row(InvoiceDate="01.12.2010 08:26"), row(InvoiceDate="13.01.2011 8:00:00"), GOOD[1]]),
        ),
        Expect(
            loaded=3,
            fast=False,
            values={2: {"invoice_date": datetime(2010, 12, 1, 8, 26)}, 3: {"invoice_date": datetime(2011, 1, 13, 8)}},
        ),
    ),
    Case(
        "reordered_columns",
        _plain(
            "reordered.csv",
            csv_text([list(reversed(UCI_HEADER)), *(list(reversed(r)) for r in GOOD)]),
        ),
        Expect(loaded=5, fast=True, values=_typed()),
    ),
    Case(
        "extra_column",
        _plain("extra.csv", csv_text([[*UCI_HEADER, "Notes"], *([*r, "note, with comma"] for r in GOOD)])),
        Expect(loaded=5, fast=False, values=_typed()),
    ),
    Case(
        "every_field_quoted",
        _plain("all_quoted.csv", fully_quoted([UCI_HEADER, *GOOD])),
        Expect(loaded=5, fast=True, values=_typed()),
    ),
]
CASE_IDS = [case.name for case in CASES]


def build(directory: Path) -> dict[str, Path]:
    """Write every case into ``directory``; returns case name -> file."""
    directory.mkdir(parents=True, exist_ok=True)
    return {case.name: case.write(directory) for case in CASES}
