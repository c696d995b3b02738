"""The one loading mechanism every format goes through.

A file lands in a single transaction:

1. take a per-target advisory lock (released by the server if we die);
2. if a load with the same content hash exists for the target, do nothing;
3. add a ``load_batches`` row, stream the checked rows with ``COPY`` into the
   typed staging table and the rejected ones into ``load_quarantine``;
4. record the counts (a CHECK constraint holds read = loaded + quarantined),
   compare them with what the server says it copied, commit.

Killed at any point before the commit, the server rolls everything back, so
a re-run starts clean. Documents that appear in several loads are resolved
downstream (the newest load of a document wins), never by deleting here.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import logging
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import IO

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from loaders.formats import NULL, Field, Format, normalise_header
from loaders.reader import FileProblem, Layout, detect_layout, fingerprint, open_bytes, printable_raw, records
from loaders.settings import SegmartError

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

    def summary(self) -> str:
        if self.status == "failed":
            return f"FAILED {self.error}"
        if self.status == "duplicate":
            return (
                f"{self.path.name}: skipped, identical content already landed as load #{self.duplicate_of} "
                f"({self.duplicate_rows:,} rows); nothing changed"
            )
        return (
            f"{self.path.name}: {self.fmt}, load #{self.load_id}: read {self.rows_read:,} rows, "
            f"loaded {self.rows_loaded:,}, quarantined {self.rows_quarantined:,}, "
            f"skipped {self.blank_lines:,} blank lines ({self.load_path} path, {self.seconds:.1f}s)"
        )


def ensure_schema(pg: psycopg2.extensions.connection) -> None:
    ddl = resources.files("loaders").joinpath("schema.sql").read_text(encoding="utf-8")
    with pg.cursor() as cur:
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
        values = (str(load_id), str(line_number), _escape(reason), _escape(printable_raw(raw.rstrip("\r\n"))))
        quarantine.write("\t".join(values) + "\n")


class _CheckedRows:
    """The checked path: Python splits and checks every row; COPY reads the result.

    A file-like object for ``copy_expert``; rejected rows go to the spool.
    """

    def __init__(self, path: Path, layout: Layout, load_id: int, quarantine: IO[str]) -> None:
        self._layout = layout
        self._load_id = load_id
        self._quarantine = quarantine
        self._header = [normalise_header(name) for name in layout.header]
        self._chunks = self._generate(path)
        self.counts = _Counts()

    def read(self, size: int = -1) -> str:
        return next(self._chunks, "")

    def _why(self, fields: list[str]) -> str:
        """Slow path, for a row that failed: name the field and the problem."""
        if [normalise_header(value) for value in fields] == self._header:
            return "repeated header row"
        for fmt_field, position in zip(self._layout.fmt.fields, self._layout.positions, strict=True):
            try:
                fmt_field.convert(fields[position])
            except ValueError as exc:
                return f"{fmt_field.header}: {exc}"
        return "unknown problem"  # pragma: no cover - convert failed above

    def _generate(self, path: Path) -> Iterator[str]:
        plan = list(zip(self._layout.positions, (f.convert for f in self._layout.fmt.fields), strict=True))
        width = len(self._layout.header)
        prefix = f"{self._load_id}\t"
        counts = self.counts
        out: list[str] = []
        for record in records(path, self._layout):
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
            try:
                values = [convert(fields[position]) for position, convert in plan]
            except ValueError:
                counts.reject(self._load_id, record.line_number, self._why(fields), record.raw, self._quarantine)
                continue
            counts.rows_loaded += 1
            out.append(prefix + str(record.line_number) + "\t" + "\t".join(values) + "\n")
            if len(out) >= ROWS_PER_CHUNK:
                yield "".join(out)
                out.clear()
        if out:
            yield "".join(out)


def _checked_copy(
    cur: psycopg2.extensions.cursor, path: Path, layout: Layout, load_id: int, quarantine: IO[str]
) -> _Counts:
    stream = _CheckedRows(path, layout, load_id, quarantine)
    columns = sql.SQL(", ").join(map(sql.Identifier, ["load_id", "line_number", *layout.fmt.columns]))
    copy = sql.SQL("copy {}.{} ({}) from stdin").format(
        sql.Identifier("staging"), sql.Identifier(layout.fmt.target), columns
    )
    cur.copy_expert(copy.as_string(cur.connection), stream, size=1 << 16)
    if cur.rowcount != stream.counts.rows_loaded:
        raise SegmartError(
            f"{path}: the server copied {cur.rowcount} rows but the loader sent {stream.counts.rows_loaded}; "
            "the load was rolled back"
        )
    return stream.counts


_SKIP_NOTICE_RE = re.compile(r'skipping row due to data type incompatibility at line (\d+) for column "([^"]+)": (.*)')
_PG_ENCODINGS = {"utf-8": "UTF8", "utf-8-sig": "UTF8", "cp1251": "WIN1251"}
ON_ERROR_MIN_SERVER = 170000  # COPY ... ON_ERROR ignore arrived in PostgreSQL 17


class _NumberedBytes:
    """The file's bytes with ``load_id,line_number,`` put in front of every record.

    Lines inside a quoted field (an odd number of quotes opened it) are
    continuations, not records, and stay as they are.
    """

    def __init__(self, path: Path, layout: Layout, load_id: int) -> None:
        self._path = path
        self._delimiter = layout.delimiter.encode()
        self._skip_bom = layout.encoding == "utf-8-sig"
        self._load_id = load_id
        self._chunks = self._generate()
        self.records = 0  # record-starting lines, the header included

    def read(self, size: int = -1) -> bytes:
        return next(self._chunks, b"")

    def _generate(self) -> Iterator[bytes]:
        prefix = b"%d%b" % (self._load_id, self._delimiter)
        sep = self._delimiter
        line_number = 0
        inside_quotes = False
        pending = b""
        with open_bytes(self._path) as stream:
            first = True
            while True:
                try:
                    chunk = stream.read(1 << 20)
                except (EOFError, gzip.BadGzipFile, OSError) as exc:
                    raise FileProblem(
                        self._path, line_number, f"compressed data is damaged or cut short ({exc})"
                    ) from None
                if first and self._skip_bom and chunk.startswith(codecs.BOM_UTF8):
                    chunk = chunk[len(codecs.BOM_UTF8) :]
                first = False
                if not chunk:
                    break
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                out = []
                for line in lines:
                    line_number += 1
                    if inside_quotes:
                        out.append(line)
                    else:
                        self.records += 1
                        out.append(prefix + b"%d" % line_number + sep + line)
                    if line.count(b'"') & 1:
                        inside_quotes = not inside_quotes
                out.append(b"")
                yield b"\n".join(out)
            if pending:
                line_number += 1
                if inside_quotes:
                    yield pending + b"\n"
                else:
                    self.records += 1
                    yield prefix + b"%d" % line_number + sep + pending + b"\n"


class _SkippedRows:
    """Collects the rows COPY skipped (``ON_ERROR ignore``, ``LOG_VERBOSITY verbose``)."""

    def __init__(self) -> None:
        self.rows: dict[int, tuple[str, str]] = {}

    def append(self, message: str) -> None:
        match = _SKIP_NOTICE_RE.search(message)
        if match is not None:
            self.rows[int(match.group(1))] = (match.group(2), match.group(3).strip())


def _raw_records(path: Path, layout: Layout, wanted: set[int]) -> Iterator[tuple[int, str]]:
    """(line number, raw text) of the records that start on the wanted lines."""
    stream = open_bytes(path)
    text = io.TextIOWrapper(stream, encoding=layout.encoding, errors="surrogateescape", newline="")
    inside_quotes = False
    current: list[str] = []
    start = 0
    try:
        for line_number, line in enumerate(text, start=1):
            if not inside_quotes:
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
    cur: psycopg2.extensions.cursor, path: Path, layout: Layout, load_id: int, quarantine: IO[str]
) -> _Counts | None:
    """COPY the file as it is; PostgreSQL checks every value against the staging domains.

    Returns None when the skipped rows cannot all be accounted for (then the
    caller rolls back and uses the checked path).
    """
    by_header = {normalise_header(f.header): f for f in layout.fmt.fields}
    file_columns = [by_header[normalise_header(name)].column for name in layout.header]
    headers = {by_header[normalise_header(name)].column: name for name in layout.header}
    # a quoted empty field is an empty string to COPY; make it NULL where the
    # checked path would (optional columns), so both paths land the same rows
    optional = [f.column for f in layout.fmt.fields if _accepts_empty(f)]
    columns = sql.SQL(", ").join(map(sql.Identifier, ["load_id", "line_number", *file_columns]))
    copy = sql.SQL(
        "copy {}.{} ({}) from stdin with (format csv, header true, delimiter {}, encoding {}, "
        "force_null ({}), on_error ignore, log_verbosity verbose)"
    ).format(
        sql.Identifier("staging"),
        sql.Identifier(layout.fmt.target),
        columns,
        sql.Literal(layout.delimiter),
        sql.Literal(_PG_ENCODINGS.get(layout.encoding, layout.encoding)),
        sql.SQL(", ").join(map(sql.Identifier, optional)),
    )
    pg = cur.connection
    stream = _NumberedBytes(path, layout, load_id)
    skipped = _SkippedRows()
    saved_notices = pg.notices
    pg.notices = skipped
    try:
        cur.execute("set local datestyle = %s", (layout.fmt.datestyle,))
        cur.copy_expert(copy.as_string(pg), stream, size=1 << 20)
    finally:
        pg.notices = saved_notices
    counts = _Counts(rows_read=stream.records - 1, rows_loaded=cur.rowcount)
    if counts.rows_loaded + len(skipped.rows) != counts.rows_read:
        log.info("%s: COPY skipped rows it did not report; using the checked path", path)
        return None
    for line_number, raw in _raw_records(path, layout, set(skipped.rows)):
        column, value = skipped.rows[line_number]
        reason = f"{headers.get(column, column)}: invalid value {value[:60]}"
        if [normalise_header(v) for v in next(csv.reader([raw], delimiter=layout.delimiter), [])] == [
            normalise_header(h) for h in layout.header
        ]:
            reason = "repeated header row"
        counts.reject(load_id, line_number, reason, raw, quarantine)
    return counts


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_rows(
    cur: psycopg2.extensions.cursor, path: Path, layout: Layout, load_id: int, spool: IO[str], *, checked: bool
) -> tuple[_Counts, str]:
    """Try the fast path when it can apply; fall back to the checked one."""
    fmt = layout.fmt
    native = (
        not checked
        and fmt.copy_native
        and cur.connection.server_version >= ON_ERROR_MIN_SERVER
        and {normalise_header(name) for name in layout.header} == fmt.header_key
    )
    if native:
        cur.execute("savepoint fast_copy")
        try:
            counts = _fast_copy(cur, path, layout, load_id, spool)
        except (psycopg2.DataError, psycopg2.IntegrityError) as exc:
            counts = None
            problem = (exc.pgerror or str(exc)).strip().splitlines()
            log.info("%s: COPY cannot read it as is (%s); using the checked path", path.name, " ".join(problem[:2]))
        if counts is not None:
            cur.execute("release savepoint fast_copy")
            return counts, "fast"
        cur.execute("rollback to savepoint fast_copy")
        spool.seek(0)
        spool.truncate()
    return _checked_copy(cur, path, layout, load_id, spool), "checked"


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
) -> LoadResult:
    """Land one file atomically; raises FileProblem when the file cannot be used."""
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    layout = detect_layout(path, formats, forced_format=forced_format, encoding=encoding, delimiter=delimiter)
    print_name = path.name
    digest = fingerprint(path)
    target = layout.fmt.target
    result = LoadResult(path=path, status="loaded", fmt=layout.fmt.name)
    try:
        with pg.cursor() as cur:
            _lock_target(cur, target)
            cur.execute(
                "select load_id, rows_loaded from staging.load_batches where target = %s and file_sha256 = %s",
                (target, digest.sha256),
            )
            existing = cur.fetchone()
            if existing is not None:
                pg.rollback()
                result.status = "duplicate"
                result.duplicate_of, result.duplicate_rows = existing
                result.seconds = time.perf_counter() - started
                return result
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
                    digest.sha256,
                    digest.size,
                    layout.encoding,
                    layout.delimiter,
                    started_at,
                ),
            )
            load_id = cur.fetchone()[0]
            with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
                counts, path_used = _copy_rows(cur, path, layout, load_id, spool, checked=checked)
                spool.seek(0)
                cur.copy_expert(
                    "copy staging.load_quarantine (load_id, line_number, reason, raw_line) from stdin", spool
                )
                if cur.rowcount != counts.rows_quarantined:
                    raise SegmartError(f"{path}: quarantine count mismatch; the load was rolled back")
            cur.execute(
                """
                update staging.load_batches
                set rows_read = %s, rows_loaded = %s, rows_quarantined = %s, blank_lines = %s,
                    load_path = %s, loaded_at = clock_timestamp()
                where load_id = %s
                """,
                (
                    counts.rows_read,
                    counts.rows_loaded,
                    counts.rows_quarantined,
                    counts.blank_lines,
                    path_used,
                    load_id,
                ),
            )
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
    result.seconds = time.perf_counter() - started
    return result


def _record_failure(pg: psycopg2.extensions.connection, problem: FileProblem) -> None:
    try:
        with pg.cursor() as cur:
            cur.execute(
                "insert into staging.load_failures (file_name, line_number, problem) values (%s, %s, %s)",
                (problem.path.name, problem.line, problem.problem),
            )
        pg.commit()
    except psycopg2.Error:
        pg.rollback()
        log.warning("could not record the failure of %s in staging.load_failures", problem.path)


def load_files(
    pg: psycopg2.extensions.connection,
    paths: list[Path],
    formats: tuple[Format, ...],
    *,
    forced_format: Format | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    checked: bool = False,
) -> list[LoadResult]:
    """Land each file on its own: one that fails does not stop or spoil the others."""
    ensure_schema(pg)
    results = []
    for path in paths:
        try:
            result = load_file(
                pg, path, formats, forced_format=forced_format, encoding=encoding, delimiter=delimiter, checked=checked
            )
        except FileProblem as problem:
            _record_failure(pg, problem)
            result = LoadResult(path=path, status="failed", error=str(problem))
        except psycopg2.Error as exc:
            message = (exc.pgerror or str(exc)).strip()
            result = LoadResult(path=path, status="failed", error=f"{path}: the database refused the load: {message}")
        if result.status == "loaded":
            assert result.rows_read == result.rows_loaded + result.rows_quarantined
        (log.error if result.status == "failed" else log.info)(result.summary())
        results.append(result)
    return results
