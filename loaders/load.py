"""The one loading mechanism every format goes through.

A file lands in a single transaction:

1. take a per-target advisory lock (released by the server if we die);
2. if a load with the same content hash exists for the target, do nothing
   (a file that may be a re-send is hashed before loading; any other is
   hashed while it streams, and the check is made before the commit);
3. add a ``load_batches`` row, stream the checked rows with ``COPY`` into the
   typed staging table and the rejected ones into ``load_quarantine``;
4. record the counts (a CHECK constraint holds read = loaded + quarantined),
   compare them with what the server says it copied, commit.

Killed at any point before the commit, the server rolls everything back, so
a re-run starts clean. Documents that appear in several loads are resolved
downstream (the newest load of a document wins), never by deleting here.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import hashlib
import io
import logging
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import IO

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from loaders.errors import LoaderError
from loaders.formats import NULL, Field, Format, copy_escape, normalise_header
from loaders.reader import (
    DAMAGED_GZIP,
    MAX_FIELD_CHARS,
    FileProblem,
    Fingerprint,
    Hasher,
    Layout,
    content_size_hint,
    detect_layout,
    display_name,
    fingerprint,
    open_bytes,
    printable_raw,
    records,
    unreadable,
)
from loaders.shrinkage import Shrinkage, measure_shrinkage

log = logging.getLogger(__name__)

ROWS_PER_CHUNK = 4096


@dataclass
class LoadResult:
    path: Path
    status: str  # "loaded" | "duplicate" | "failed"
    fmt: str | None = None
    load_id: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    blank_lines: int = 0
    duplicate_of: int | None = None
    duplicate_rows: int = 0
    error: str | None = None
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)
    load_path: str | None = None
    unusable: bool = False  # failed because of the file itself (not the database)
    shrinkage: Shrinkage | None = None  # documents this load made smaller (newest load wins)

    def summary(self) -> str:
        if self.status == "failed":
            return f"FAILED {self.error}"
        if self.status == "duplicate":
            return (
                f"{self.path.name}: skipped, identical content already landed as load #{self.duplicate_of} "
                f"({self.duplicate_rows:,} rows); nothing changed"
            )
        why = ""
        if self.reasons:
            ranked = sorted(self.reasons.items(), key=lambda item: (-item[1], item[0]))
            why = " [" + "; ".join(f"{kind}: {count:,}" for kind, count in ranked) + "]"
        shrunk = f"; WARNING {self.shrinkage.text()}" if self.shrinkage else ""
        return (
            f"{self.path.name}: {self.fmt}, load #{self.load_id}: read {self.rows_read:,} rows, "
            f"loaded {self.rows_loaded:,}, quarantined {self.rows_quarantined:,}{why}, "
            f"skipped {self.blank_lines:,} blank lines ({self.load_path} path, {self.seconds:.1f}s){shrunk}"
        )


# Called inside a load's transaction: ``before_insert(cursor)`` once the file is
# known to be new (before its load_batches row exists), ``before_commit(cursor,
# load_id)`` after its rows are in. The application uses them to keep other
# bookkeeping (the demo's loads) atomic with the load itself.
LoadHook = Callable[[psycopg2.extensions.cursor], None]
CommitHook = Callable[[psycopg2.extensions.cursor, int], None]


_CREATES_RE = re.compile(r"create\s+(?:table|index)\s+if\s+not\s+exists\s+([\w.]+)", re.IGNORECASE)


def ensure_schema(pg: psycopg2.extensions.connection) -> None:
    ddl = resources.files("loaders").joinpath("schema.sql").read_text(encoding="utf-8")
    relations = [name if "." in name else f"staging.{name}" for name in _CREATES_RE.findall(ddl)]
    with pg.cursor() as cur:
        # Even "create index if not exists" locks its table, so running the DDL
        # would wait for every load in progress (into any target): only run it
        # when something is missing.
        cur.execute("select count(*) from unnest(%s::text[]) as name where to_regclass(name) is null", (relations,))
        if relations and cur.fetchone()[0] == 0:
            pg.rollback()
            return
        # several loaders may start at once: serialise the DDL
        cur.execute("select pg_advisory_xact_lock(hashtext('segmart.schema'))")
        cur.execute(ddl)
    pg.commit()


@dataclass
class _Counts:
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    blank_lines: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def reject(self, load_id: int, line_number: int, reason: str, raw: str, quarantine: IO[str]) -> None:
        """Count a rejected row and spool it for ``staging.load_quarantine``."""
        self.rows_quarantined += 1
        kind = reason.split(":", 1)[0]
        self.reasons[kind] = self.reasons.get(kind, 0) + 1
        values = (str(load_id), str(line_number), copy_escape(reason), copy_escape(printable_raw(raw.rstrip("\r\n"))))
        quarantine.write("\t".join(values) + "\n")


class _Source:
    """A file-like object for ``copy_expert`` that serves the chunks of a generator.

    psycopg2 reports an exception raised in ``read`` as a ``QueryCanceled``
    ("error in .read() call"); the original one is kept in ``error`` so that
    the caller can raise it instead (a FileProblem, a KeyboardInterrupt).
    """

    error: BaseException | None = None
    _chunks: Iterator
    _empty: str | bytes

    def read(self, size: int = -1) -> str | bytes:
        try:
            return next(self._chunks, self._empty)
        except BaseException as exc:
            self.error = exc
            raise

    def copy(self, cur: psycopg2.extensions.cursor, statement: str, size: int) -> None:
        try:
            cur.copy_expert(statement, self, size=size)
        except psycopg2.errors.QueryCanceled:
            if self.error is not None:
                raise self.error from None
            raise


# One checked row: its line number in the file, the converted values (in the
# format's field order, COPY text form) and the raw text it came from.
CheckedRow = tuple[int, list[str], str]


class CheckedRows:
    """The checked path: Python splits and checks every row of a file.

    ``batches()`` yields the rows that passed, ``rows_per_batch`` at a time;
    a rejected row is counted and spooled for ``load_quarantine`` (COPY text
    format) on the way. Every sink (the COPY into PostgreSQL, the Parquet
    landing) reads the same rows from here.
    """

    def __init__(
        self,
        path: Path,
        layout: Layout,
        load_id: int,
        quarantine: IO[str],
        hasher: Hasher,
        rows_per_batch: int = ROWS_PER_CHUNK,
    ) -> None:
        self._path = path
        self._hasher = hasher
        self._layout = layout
        self._load_id = load_id
        self._quarantine = quarantine
        self._header = [normalise_header(name) for name in layout.header]
        self._rows_per_batch = rows_per_batch
        self.counts = _Counts()

    def _why(self, fields: list[str]) -> str:
        """Slow path, for a row that failed: name the field and the problem."""
        if [normalise_header(value) for value in fields] == self._header:
            return "repeated header row"
        for fmt_field, position in zip(self._layout.fmt.fields, self._layout.positions, strict=True):
            try:
                fmt_field.convert(fields[position] if position is not None else "")
            except ValueError as exc:
                return f"{fmt_field.header}: {exc}"
        return "unknown problem"  # pragma: no cover - convert failed above

    def reject(self, line_number: int, reason: str, raw: str) -> None:
        """Quarantine a row a sink could not take after all (counted as loaded before)."""
        self.counts.rows_loaded -= 1
        self.counts.reject(self._load_id, line_number, reason, raw, self._quarantine)

    def batches(self) -> Iterator[list[CheckedRow]]:
        width = len(self._layout.header)
        # an optional field the file lacks reads the empty string put after the row's own fields
        absent = width
        plan = [
            (absent if position is None else position, fmt_field.convert)
            for position, fmt_field in zip(self._layout.positions, self._layout.fmt.fields, strict=True)
        ]
        has_absent = None in self._layout.positions
        counts = self.counts
        out: list[CheckedRow] = []
        for record in records(self._path, self._layout, self._hasher):
            fields = record.fields
            if (
                fields is not None
                and len(fields) != width
                and (not fields or (len(fields) == 1 and not fields[0].strip()))
            ):
                counts.blank_lines += 1
                continue
            counts.rows_read += 1
            if fields is None:
                counts.reject(
                    self._load_id, record.line_number, record.problem or "unreadable", record.raw, self._quarantine
                )
                continue
            if len(fields) != width:
                reason = f"field count: expected {width} fields, found {len(fields)}"
                counts.reject(self._load_id, record.line_number, reason, record.raw, self._quarantine)
                continue
            row = [*fields, ""] if has_absent else fields
            try:
                values = [convert(row[position]) for position, convert in plan]
            except ValueError:
                counts.reject(self._load_id, record.line_number, self._why(fields), record.raw, self._quarantine)
                continue
            counts.rows_loaded += 1
            out.append((record.line_number, values, record.raw))
            if len(out) >= self._rows_per_batch:
                yield out
                out = []
        if out:
            yield out


class _CheckedCopy(_Source):
    """The checked rows as COPY text, for ``copy_expert``."""

    _empty = ""

    def __init__(self, rows: CheckedRows, load_id: int) -> None:
        self._rows = rows
        self._prefix = f"{load_id}\t"
        self._chunks = self._generate()

    def _generate(self) -> Iterator[str]:
        prefix = self._prefix
        for batch in self._rows.batches():
            yield "".join(
                prefix + str(line_number) + "\t" + "\t".join(values) + "\n" for line_number, values, _ in batch
            )


def _checked_copy(
    cur: psycopg2.extensions.cursor, path: Path, layout: Layout, load_id: int, quarantine: IO[str], hasher: Hasher
) -> _Counts:
    rows = CheckedRows(path, layout, load_id, quarantine, hasher)
    stream = _CheckedCopy(rows, load_id)
    columns = sql.SQL(", ").join(map(sql.Identifier, ["load_id", "line_number", *layout.fmt.columns]))
    copy = sql.SQL("copy {}.{} ({}) from stdin").format(
        sql.Identifier("staging"), sql.Identifier(layout.fmt.target), columns
    )
    stream.copy(cur, copy.as_string(cur.connection), size=1 << 16)
    if cur.rowcount != rows.counts.rows_loaded:
        raise LoaderError(
            f"{path}: the server copied {cur.rowcount} rows but the loader sent {rows.counts.rows_loaded}; "
            "the load was rolled back"
        )
    return rows.counts


_SKIP_NOTICE_RE = re.compile(r'skipping row due to data type incompatibility at line (\d+) for column "([^"]+)": (.*)')
_PG_ENCODINGS = {"utf-8": "UTF8", "utf-8-sig": "UTF8", "cp1251": "WIN1251"}
ON_ERROR_MIN_SERVER = 170000  # COPY ... ON_ERROR ignore arrived in PostgreSQL 17


# Dates COPY would read unlike the converters: day-first dotted dates
# (``01.12.2010``) under an MDY ``datestyle``, month-first slashed ones
# (``12/1/2010``, UCI's own export) under a DMY one.
_DOTTED_DATE_BYTES_RE = re.compile(rb"\.[0-9]{1,2}\.[0-9]{4}(?![0-9])")
_SLASHED_DATE_BYTES_RE = re.compile(rb"/[0-9]{1,2}/[0-9]{4}(?![0-9])")
# a field that starts with a word PostgreSQL's date/time input reads as a time
# ('yesterday', 'now', ...): the converters reject it, so a file holding one goes
# the checked path. Anchored on a delimiter or quote: ~8 ms per MB.
_SPECIAL_TIME_BYTES_RE = re.compile(rb'[,;\t"\n] *(?i:now|today|tomorrow|yesterday|epoch|allballs)\b')
_BLANK_LINE_RE = re.compile(rb"\n[ \t\r\f\v]*\n")
_BLANK_START_RE = re.compile(rb"[ \t\r\f\v]*\n")
REWRITE_CACHE_LIMIT = 50_000


class _NeedsChecking(Exception):
    """The fast path cannot land this file as the checked path would."""


class _Rewriter:
    """Runs the converters of a format's ``rewrite`` fields on the fast path.

    A record's fields up to the last rewritten one are matched by one regular
    expression (CSV quoting as PostgreSQL reads it); each rewritten value goes
    through the field's converter, as on the checked path, and a value it
    rejects quarantines the row with the converter's reason. A record the
    expression does not match (a quote inside an unquoted field, too few
    fields) sends the file to the checked path.
    """

    def __init__(self, layout: Layout) -> None:
        sep = re.escape(layout.delimiter.encode())
        field_re = rb'(?:"(?:[^"]|"")*"|[^' + sep + rb'"\r\n]*)(?=' + sep + rb"|\r|\n|\Z)"
        wanted = sorted(
            (position, fmt_field)
            for position, fmt_field in zip(layout.positions, layout.fmt.fields, strict=True)
            if fmt_field.rewrite
        )
        parts, previous = [rb"\A"], -1
        for position, _ in wanted:
            parts.append(rb"((?:" + field_re + sep + rb"){%d})(" % (position - previous - 1) + field_re + rb")")
            previous = position
            parts.append(rb"(?:" + sep + rb"|(?=\r|\n|\Z))")
        self._record_re = re.compile(b"".join(parts), re.DOTALL)
        self._fields = [fmt_field for _, fmt_field in wanted]
        self._codec = "utf-8" if layout.encoding == "utf-8-sig" else layout.encoding
        self._delimiter = layout.delimiter.encode()
        self._caches: list[dict[bytes, bytes | str]] = [{} for _ in wanted]
        self.rejected: dict[int, str] = {}  # line number -> reason
        self._dropped_starts: list[int] = []  # the lines where records not sent start, in order
        self._dropped_ends: list[int] = []  # the physical lines not sent, up to and including each such record

    def _convert(self, index: int, value: bytes) -> bytes | str:
        """The value to send (bytes), or the reason to reject it (str)."""
        fmt_field = self._fields[index]
        text = value.decode(self._codec, errors="surrogateescape")
        if len(text) >= 2 and text[0] == text[-1] == '"':
            text = text[1:-1].replace('""', '"')
        try:
            converted = fmt_field.convert(text)
        except ValueError as exc:
            return f"{fmt_field.header}: {exc}"
        if converted == NULL:
            return b""
        out = converted.encode(self._codec, errors="surrogateescape")
        if b'"' in out or self._delimiter in out or b"\n" in out or b"\r" in out:
            out = b'"' + out.replace(b'"', b'""') + b'"'
        return out

    def file_line(self, copy_line: int) -> int:
        """The file's line number of what COPY calls ``copy_line`` (records not sent shift the lines)."""
        line = copy_line
        while True:
            dropped = bisect.bisect_right(self._dropped_starts, line)
            shifted = copy_line + (self._dropped_ends[dropped - 1] if dropped else 0)
            if shifted == line:
                return line
            line = shifted

    def record(self, line_number: int, record: bytes) -> bytes | None:
        """The record with its rewrite fields converted, or None when a value was rejected."""
        match = self._record_re.match(record)
        if match is None:
            raise _NeedsChecking(f"line {line_number} is not split into fields as the checked path would")
        pieces = []
        for index, cache in enumerate(self._caches):
            value = match.group(2 * index + 2)
            converted = cache.get(value)
            if converted is None:
                converted = self._convert(index, value)
                if len(cache) >= REWRITE_CACHE_LIMIT:
                    cache.clear()
                cache[value] = converted
            if isinstance(converted, str):
                self.rejected[line_number] = converted
                self._dropped_starts.append(line_number)
                before = self._dropped_ends[-1] if self._dropped_ends else 0
                self._dropped_ends.append(before + record.count(b"\n") + 1)
                return None
            pieces.append(match.group(2 * index + 1))
            pieces.append(converted)
            pieces.append(self._delimiter)
        rest = record[match.end() :]
        if not rest or rest[:1] in (b"\r", b"\n"):
            pieces.pop()  # the last rewritten field ends the record: no separator after it
        pieces.append(rest)
        return b"".join(pieces)


class _NumberedBytes(_Source):
    """The file's bytes with ``load_id,line_number,`` put in front of every record.

    Lines inside a quoted field (an odd number of quotes opened it) are
    continuations, not records. Raises _NeedsChecking when the file holds
    something COPY would read differently from the converters: blank lines,
    dates in the other order, mixed line-break styles, or a record longer than
    the checked path accepts for a field. The bytes read are hashed on the way.
    When the format has ``rewrite`` fields, each record goes through a
    _Rewriter; the records it rejects are not sent (``rejected``).
    """

    _empty = b""

    def __init__(self, path: Path, layout: Layout, load_id: int, hasher: Hasher | None = None) -> None:
        self._path = path
        self._delimiter = layout.delimiter.encode()
        self._skip_bom = layout.encoding == "utf-8-sig"
        self._load_id = load_id
        self._hasher = hasher or Hasher()
        self._day_first = "DMY" in layout.fmt.datestyle.upper()
        self._rewriter = _Rewriter(layout) if any(f.rewrite for f in layout.fmt.fields) else None
        self._chunks = self._generate()
        self.records = 0  # record-starting lines, the header included

    @property
    def rejected(self) -> dict[int, str]:
        return self._rewriter.rejected if self._rewriter is not None else {}

    def file_line(self, copy_line: int) -> int:
        return self._rewriter.file_line(copy_line) if self._rewriter is not None else copy_line

    def _check(self, data: bytes) -> None:
        """Raise _NeedsChecking when COPY would read ``data`` (lines, the last maybe cut) unlike the checked path."""
        if self._day_first:
            if _SLASHED_DATE_BYTES_RE.search(data):
                raise _NeedsChecking("it has month-first dates (mm/dd/yyyy) where day-first ones are expected")
        elif _DOTTED_DATE_BYTES_RE.search(data):
            raise _NeedsChecking("it has day-first dates (dd.mm.yyyy)")
        if _SPECIAL_TIME_BYTES_RE.search(data):
            raise _NeedsChecking("it has a word PostgreSQL would read as a date/time (now, today, yesterday, ...)")
        if _BLANK_LINE_RE.search(data) or _BLANK_START_RE.match(data):
            # the checked path skips a blank line; COPY would quarantine it
            raise _NeedsChecking("it has blank lines")
        carriage_returns = data.count(b"\r") - data.endswith(b"\r")
        if carriage_returns and not carriage_returns == data.count(b"\r\n") == data.count(b"\n"):
            # line numbers would differ: COPY counts the line breaks of the
            # file's own style only, the checked path counts \r, \n and \r\n
            raise _NeedsChecking("its line breaks are of mixed styles (\\n, \\r\\n, lone \\r)")

    def _emit(self, out: list[bytes], prefix: bytes, line_number: int, record: bytes) -> None:
        if self._rewriter is not None and self.records > 1:
            rewritten = self._rewriter.record(line_number, record)
            if rewritten is None:
                return
            record = rewritten
        out.append(prefix + b"%d" % line_number + self._delimiter + record)

    def _generate(self) -> Iterator[bytes]:
        prefix = b"%d%b" % (self._load_id, self._delimiter)
        sep = self._delimiter
        rewriting = self._rewriter is not None
        line_number = 0
        start = 0  # line where the current record started
        record_bytes = 0  # of a record that spans lines
        inside_quotes = False
        spanning: list[bytes] = []  # the lines so far of a record that spans lines (when rewriting)
        pending = b""
        with self._hasher.wrap(open_bytes(self._path)) as stream:
            first = True
            while True:
                try:
                    chunk = stream.read(1 << 20)
                except DAMAGED_GZIP as exc:
                    raise unreadable(self._path, exc) from None
                if first and self._skip_bom and chunk.startswith(codecs.BOM_UTF8):
                    chunk = chunk[len(codecs.BOM_UTF8) :]
                first = False
                if not chunk:
                    break
                data = pending + chunk
                self._check(data)
                lines = data.split(b"\n")
                pending = lines.pop()
                if max(len(pending), max(map(len, lines), default=0)) > MAX_FIELD_CHARS:
                    raise _NeedsChecking(f"a line after line {line_number} is longer than {MAX_FIELD_CHARS:,} bytes")
                out: list[bytes] = []
                for line in lines:
                    line_number += 1
                    odd = line.count(b'"') & 1
                    if inside_quotes:
                        record_bytes += len(line) + 1
                        if record_bytes > MAX_FIELD_CHARS:
                            raise _NeedsChecking(
                                f"line {line_number} ends a record longer than {MAX_FIELD_CHARS:,} bytes"
                            )
                        if rewriting:
                            spanning.append(line)
                            if odd:
                                self._emit(out, prefix, start, b"\n".join(spanning))
                                spanning = []
                        else:
                            out.append(line)
                    else:
                        self.records += 1
                        start = line_number
                        if odd and rewriting:
                            spanning = [line]
                        elif rewriting:
                            self._emit(out, prefix, line_number, line)
                        else:
                            out.append(prefix + b"%d" % line_number + sep + line)
                    if odd:
                        inside_quotes = not inside_quotes
                        record_bytes = len(line)
                if out:
                    out.append(b"")
                    yield b"\n".join(out)
            if pending:
                line_number += 1
                if inside_quotes:
                    if rewriting:
                        spanning.append(pending)
                    else:
                        yield pending + b"\n"
                elif not pending.strip():
                    raise _NeedsChecking(f"line {line_number} is blank")
                else:
                    self.records += 1
                    start = line_number
                    spanning = [pending]
                    if not rewriting:
                        yield prefix + b"%d" % line_number + sep + pending + b"\n"
            if rewriting and spanning:
                out = []
                self._emit(out, prefix, start, b"\n".join(spanning))
                if out:
                    yield out[0] + b"\n"


class _SkippedRows:
    """Collects the rows COPY skipped (``ON_ERROR ignore``, ``LOG_VERBOSITY verbose``)."""

    def __init__(self) -> None:
        self.rows: dict[int, tuple[str, str]] = {}

    def append(self, message: str) -> None:
        match = _SKIP_NOTICE_RE.search(message)
        if match is not None:
            self.rows[int(match.group(1))] = (match.group(2), match.group(3).strip())


def _raw_records(path: Path, layout: Layout, wanted: set[int]) -> Iterator[tuple[int, str]]:
    """(line number, raw text) of the records that start on the wanted lines; reads no further than the last."""
    if not wanted:
        return
    last = max(wanted)
    stream = open_bytes(path)
    text = io.TextIOWrapper(stream, encoding=layout.encoding, errors="surrogateescape", newline="")
    inside_quotes = False
    current: list[str] = []
    start = 0
    try:
        for line_number, line in enumerate(text, start=1):
            if not inside_quotes:
                if start >= last and not current:
                    return
                start = line_number
            if start in wanted:
                current.append(line)
            if line.count('"') & 1:
                inside_quotes = not inside_quotes
            if not inside_quotes and current:
                yield start, "".join(current)
                current = []
        if current:
            yield start, "".join(current)
    finally:
        stream.close()


def _accepts_empty(fmt_field: Field) -> bool:
    try:
        return fmt_field.convert("") == NULL
    except ValueError:
        return False


def _fast_copy(
    cur: psycopg2.extensions.cursor, path: Path, layout: Layout, load_id: int, quarantine: IO[str], hasher: Hasher
) -> _Counts | None:
    """COPY the file as it is; PostgreSQL checks every value against the staging domains.

    Returns None when the skipped rows cannot all be accounted for (then the
    caller rolls back and uses the checked path).
    """
    named = [layout.fmt.field_named(normalise_header(name)) for name in layout.header]
    file_columns = [fmt_field.column for fmt_field in named if fmt_field is not None]
    headers = {fmt_field.column: name for fmt_field, name in zip(named, layout.header, strict=True) if fmt_field}
    # a quoted empty field is an empty string to COPY; make it NULL where the
    # checked path would (optional columns), so both paths land the same rows
    optional = [f.column for f in named if f is not None and _accepts_empty(f)]
    columns = sql.SQL(", ").join(map(sql.Identifier, ["load_id", "line_number", *file_columns]))
    copy = sql.SQL(
        "copy {}.{} ({}) from stdin with (format csv, header true, delimiter {}, encoding {}, "
        "{}on_error ignore, log_verbosity verbose)"
    ).format(
        sql.Identifier("staging"),
        sql.Identifier(layout.fmt.target),
        columns,
        sql.Literal(layout.delimiter),
        sql.Literal(_PG_ENCODINGS.get(layout.encoding, layout.encoding)),
        sql.SQL("force_null ({}), ").format(sql.SQL(", ").join(map(sql.Identifier, optional)))
        if optional
        else sql.SQL(""),
    )
    pg = cur.connection
    stream = _NumberedBytes(path, layout, load_id, hasher)
    skipped = _SkippedRows()
    saved_notices = pg.notices
    pg.notices = skipped
    try:
        cur.execute("set local datestyle = %s", (layout.fmt.datestyle,))
        stream.copy(cur, copy.as_string(pg), size=1 << 20)
        copied = cur.rowcount
        # psycopg2 hands the notices of a COPY over only when the next
        # command completes: run one while the collector is in place
        cur.execute("select 1")
    finally:
        pg.notices = saved_notices
    counts = _Counts(rows_read=stream.records - 1, rows_loaded=copied)
    rejected = stream.rejected
    skipped.rows = {stream.file_line(line): problem for line, problem in skipped.rows.items()}
    if counts.rows_loaded + len(skipped.rows) + len(rejected) != counts.rows_read:
        log.info("%s: COPY skipped rows it did not report; using the checked path", path)
        return None
    header_key = [normalise_header(h) for h in layout.header]
    for line_number, raw in _raw_records(path, layout, set(skipped.rows) | set(rejected)):
        reason = rejected.get(line_number)
        if reason is None:
            column, value = skipped.rows[line_number]
            reason = f"{headers.get(column, column)}: invalid value {value[:60]}"
        if [normalise_header(v) for v in next(csv.reader([raw], delimiter=layout.delimiter), [])] == header_key:
            reason = "repeated header row"
        counts.reject(load_id, line_number, reason, raw, quarantine)
    return counts


def _copy_rows(
    cur: psycopg2.extensions.cursor, path: Path, layout: Layout, load_id: int, spool: IO[str], *, checked: bool
) -> tuple[_Counts, str, Fingerprint | None]:
    """Try the fast path when it can apply; fall back to the checked one.

    Also returns the content's fingerprint, taken from the bytes the path read.
    """
    fmt = layout.fmt
    native = (
        not checked
        and layout.kind == "csv"
        and fmt.copy_native
        and cur.connection.server_version >= ON_ERROR_MIN_SERVER
        # every column of the file is one of the format's (COPY cannot skip a column)
        and all(fmt.field_named(normalise_header(name)) is not None for name in layout.header)
    )
    if native:
        cur.execute("savepoint fast_copy")
        hasher = Hasher()
        try:
            counts = _fast_copy(cur, path, layout, load_id, spool, hasher)
        except (psycopg2.DataError, psycopg2.IntegrityError) as exc:
            counts = None
            problem = (exc.pgerror or str(exc)).strip().splitlines()
            log.info("%s: COPY cannot read it as is (%s); using the checked path", path.name, " ".join(problem[:2]))
        except _NeedsChecking as exc:
            counts = None
            log.info("%s: %s; using the checked path", path.name, exc)
        if counts is not None:
            cur.execute("release savepoint fast_copy")
            return counts, "fast", hasher.result()
        cur.execute("rollback to savepoint fast_copy")
        spool.seek(0)
        spool.truncate()
    hasher = Hasher()
    return _checked_copy(cur, path, layout, load_id, spool, hasher), "checked", hasher.result()


def _lock_target(cur: psycopg2.extensions.cursor, target: str) -> None:
    key = f"segmart.load.{target}"
    cur.execute("select pg_try_advisory_xact_lock(hashtext(%s))", (key,))
    if not cur.fetchone()[0]:
        log.info("another load into staging.%s is running; waiting for it to finish", target)
        cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (key,))


def load_file(
    pg: psycopg2.extensions.connection,
    path: Path,
    formats: tuple[Format, ...],
    *,
    forced_format: Format | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    checked: bool = False,
    before_insert: LoadHook | None = None,
    before_commit: CommitHook | None = None,
    identity: str | None = None,
) -> LoadResult:
    """Land one file atomically; raises FileProblem when the file cannot be used.

    ``identity``: what else, besides the file's bytes, makes this load the one it
    is (a 1C pull's withdrawn documents): folded into the content hash, so that a
    pull whose lines equal an earlier one's but withdraws other documents is not
    skipped as a re-send.

    The content hash decides whether the file was landed before. A file that
    may be a re-send (a load of the same size exists) is hashed first, and
    skipped without loading when it is one; any other file is hashed from the
    bytes the load reads, and the load is rolled back, before it commits, if
    the hash turns out to be known after all.
    """
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    layout = detect_layout(path, formats, forced_format=forced_format, encoding=encoding, delimiter=delimiter)
    print_name = display_name(path)

    def identified(digest: Fingerprint) -> Fingerprint:
        if identity is None:
            return digest
        return Fingerprint(hashlib.sha256(f"{digest.sha256}\n{identity}".encode()).hexdigest(), digest.size)

    target = layout.fmt.target
    result = LoadResult(path=path, status="loaded", fmt=layout.fmt.name)

    def landed_before(cur: psycopg2.extensions.cursor, digest: Fingerprint) -> bool:
        cur.execute(
            "select load_id, rows_loaded from staging.load_batches where target = %s and file_sha256 = %s",
            (target, digest.sha256),
        )
        existing = cur.fetchone()
        if existing is None:
            return False
        pg.rollback()
        result.status = "duplicate"
        result.duplicate_of, result.duplicate_rows = existing
        result.seconds = time.perf_counter() - started
        return True

    try:
        with pg.cursor() as cur:
            _lock_target(cur, target)
            digest: Fingerprint | None = None
            size = content_size_hint(path)
            cur.execute(
                "select exists (select from staging.load_batches where target = %s"
                " and (%s::bigint is null or file_bytes %% 4294967296 = %s::bigint %% 4294967296))",
                (target, size, size),
            )
            if cur.fetchone()[0]:
                digest = identified(fingerprint(path))
                if landed_before(cur, digest):
                    return result
            if before_insert is not None:
                before_insert(cur)
            cur.execute(
                """
                insert into staging.load_batches
                    (target, source_format, file_name, file_sha256, file_bytes, encoding, delimiter, started_at)
                values (%s, %s, %s, %s, %s, %s, %s, %s)
                returning load_id
                """,
                (
                    target,
                    layout.fmt.name,
                    print_name,
                    digest.sha256 if digest else f"pending:{uuid.uuid4().hex}",
                    digest.size if digest else 0,
                    layout.encoding,
                    layout.delimiter,
                    started_at,
                ),
            )
            load_id = cur.fetchone()[0]
            with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
                counts, path_used, streamed = _copy_rows(cur, path, layout, load_id, spool, checked=checked)
                if digest is None:
                    # the paths read the whole content; hash it on its own only if one did not
                    digest = identified(streamed or fingerprint(path))
                    if landed_before(cur, digest):
                        return result
                spool.seek(0)
                cur.copy_expert(
                    "copy staging.load_quarantine (load_id, line_number, reason, raw_line) from stdin", spool
                )
                if cur.rowcount != counts.rows_quarantined:
                    raise LoaderError(f"{path}: quarantine count mismatch; the load was rolled back")
            cur.execute(
                """
                update staging.load_batches
                set rows_read = %s, rows_loaded = %s, rows_quarantined = %s, blank_lines = %s,
                    load_path = %s, loaded_at = clock_timestamp(), file_sha256 = %s, file_bytes = %s
                where load_id = %s
                """,
                (
                    counts.rows_read,
                    counts.rows_loaded,
                    counts.rows_quarantined,
                    counts.blank_lines,
                    path_used,
                    digest.sha256,
                    digest.size,
                    load_id,
                ),
            )
            shrunk = measure_shrinkage(cur, target, load_id)
            if before_commit is not None:
                before_commit(cur, load_id)
        pg.commit()
    except BaseException:
        pg.rollback()
        raise
    result.load_id = load_id
    result.load_path = path_used
    result.rows_read = counts.rows_read
    result.rows_loaded = counts.rows_loaded
    result.rows_quarantined = counts.rows_quarantined
    result.blank_lines = counts.blank_lines
    result.reasons = counts.reasons
    result.shrinkage = shrunk
    result.seconds = time.perf_counter() - started
    return result


def _record_failure(pg: psycopg2.extensions.connection, problem: FileProblem) -> None:
    try:
        with pg.cursor() as cur:
            cur.execute(
                "insert into staging.load_failures (file_name, line_number, problem) values (%s, %s, %s)",
                (display_name(problem.path), problem.line, printable_raw(problem.problem)),
            )
        pg.commit()
    except psycopg2.Error:
        pg.rollback()
        log.warning("could not record the failure of %s in staging.load_failures", problem.path)


def land_each(
    paths: list[Path],
    land: Callable[[Path], LoadResult],
    record_failure: Callable[[FileProblem], None],
    refused: tuple[type[Exception], ...],
    refusal: Callable[[Path, Exception], str],
) -> list[LoadResult]:
    """Land each file on its own (``land``): one that fails does not stop or spoil the others.

    A file that cannot be used is recorded (``record_failure``); one the store
    refused (an exception of ``refused``) fails with ``refusal``'s message and
    is retried by the next run. Shared by the PostgreSQL and the Parquet landing.
    """
    results = []
    for path in paths:
        try:
            result = land(path)
        except FileProblem as problem:
            record_failure(problem)
            result = LoadResult(path=path, status="failed", error=str(problem), unusable=True)
        except refused as exc:
            result = LoadResult(path=path, status="failed", error=refusal(path, exc))
        if result.status == "loaded":
            assert result.rows_read == result.rows_loaded + result.rows_quarantined
        (log.error if result.status == "failed" else log.warning if result.shrinkage else log.info)(result.summary())
        results.append(result)
    return results


def load_files(
    pg: psycopg2.extensions.connection,
    paths: list[Path],
    formats: tuple[Format, ...],
    *,
    forced_format: Format | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    checked: bool = False,
    before_insert: LoadHook | None = None,
    before_commit: CommitHook | None = None,
) -> list[LoadResult]:
    """Land each file on its own: one that fails does not stop or spoil the others."""
    ensure_schema(pg)

    def land(path: Path) -> LoadResult:
        return load_file(
            pg,
            path,
            formats,
            forced_format=forced_format,
            encoding=encoding,
            delimiter=delimiter,
            checked=checked,
            before_insert=before_insert,
            before_commit=before_commit,
        )

    def refusal(path: Path, exc: Exception) -> str:
        message = (getattr(exc, "pgerror", None) or str(exc)).strip()
        return f"{path}: the database refused the load: {message}"

    return land_each(paths, land, lambda problem: _record_failure(pg, problem), (psycopg2.Error,), refusal)
