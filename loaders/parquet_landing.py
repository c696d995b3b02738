"""Engine-neutral landing: the checked rows of a file as Parquet, one folder per staging table.

The same reading and checking as the PostgreSQL path (``loaders.load.CheckedRows``):
every row read is landed or quarantined with its reason, counted. Only the sink
differs. The landing root holds one folder per staging table, named like the
table, which any engine reads as a table (Spark: ``parquet.`<root>/<table>```)::

    <root>/sales_uci_lines/schema.parquet          no rows: the columns, so the folder reads before any load
    <root>/sales_uci_lines/load-0000000042.parquet  the rows of load 42
    <root>/load_quarantine/load-0000000042.parquet
    <root>/load_batches/load-0000000042.parquet     one row, renamed in last: the load's commit record
    <root>/load_failures/failure-<time>-<id>.parquet
    <root>/.incoming/<load>/                        a load being written (engines never read it)
    <root>/.lock                                    one load at a time, across processes

A load is written into its own folder under ``.incoming`` (streaming: row
groups of ``ROWS_PER_GROUP`` rows, memory flat in the file size) and then
renamed into the table folders, its ``load_batches`` row last. A load killed
before that rename leaves no ``load_batches`` row; the next load (under the
lock) deletes what it left. A file whose content hash already landed for the
same table is skipped. Documents in several loads are resolved by dbt (the
newest load wins), as on PostgreSQL.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO

import fasteners
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from loaders import formats
from loaders.formats import ALL_FORMATS, NULL, Format, copy_unescape
from loaders.load import CheckedRow, CheckedRows, LoadResult, land_each
from loaders.reader import (
    FileProblem,
    Fingerprint,
    Hasher,
    Layout,
    content_size_hint,
    detect_layout,
    display_name,
    fingerprint,
    printable_raw,
)

log = logging.getLogger(__name__)

ROWS_PER_GROUP = 32_768
# Numbers land as decimal(24, 9): a quantity (int, decimal(10, 0)) times a price
# stays within Spark's 38 digits, so line amounts and their sums are exact.
NUMBER = pa.decimal128(24, 9)
_NUMBER_LIMIT = Decimal(10) ** (NUMBER.precision - NUMBER.scale)
_NUMBER_QUANTUM = Decimal(1).scaleb(-NUMBER.scale)
_LOAD_FILE_RE = re.compile(r"load-(\d+)\.parquet")

_TYPES: dict[object, pa.DataType] = {
    formats.integer: pa.int32(),
    formats.optional_integer: pa.int32(),
    formats.bigint: pa.int64(),
    formats.optional_id: pa.int64(),
    formats.decimal: NUMBER,
    formats.optional_decimal: NUMBER,
    formats.decimal_comma: NUMBER,
    formats.timestamp: pa.timestamp("us"),
    formats.optional_timestamp: pa.timestamp("us"),
    formats.calendar_date: pa.date32(),
}

BATCHES_SCHEMA = pa.schema(
    [
        ("load_id", pa.int64()),
        ("target", pa.string()),
        ("source_format", pa.string()),
        ("file_name", pa.string()),
        ("file_sha256", pa.string()),
        ("file_bytes", pa.int64()),
        ("encoding", pa.string()),
        ("delimiter", pa.string()),
        ("load_path", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("loaded_at", pa.timestamp("us", tz="UTC")),
        ("rows_read", pa.int64()),
        ("rows_loaded", pa.int64()),
        ("rows_quarantined", pa.int64()),
        ("blank_lines", pa.int64()),
    ]
)
QUARANTINE_SCHEMA = pa.schema(
    [("load_id", pa.int64()), ("line_number", pa.int64()), ("reason", pa.string()), ("raw_line", pa.string())]
)
FAILURES_SCHEMA = pa.schema(
    [
        ("failure_id", pa.string()),
        ("file_name", pa.string()),
        ("failed_at", pa.timestamp("us", tz="UTC")),
        ("line_number", pa.int64()),
        ("problem", pa.string()),
    ]
)
BOOKKEEPING = {"load_batches": BATCHES_SCHEMA, "load_quarantine": QUARANTINE_SCHEMA, "load_failures": FAILURES_SCHEMA}


def table_schema(fmt: Format) -> pa.Schema:
    """The Parquet columns of ``fmt``'s staging table: lineage, then the format's columns."""
    columns = [("load_id", pa.int64()), ("line_number", pa.int64())]
    columns += [(field.column, _TYPES.get(field.convert, pa.string())) for field in fmt.fields]
    return pa.schema(columns)


def table_schemas() -> dict[str, pa.Schema]:
    """Every landing folder and its columns (formats of one target share them)."""
    schemas = dict(BOOKKEEPING)
    for fmt in ALL_FORMATS.values():
        schema = table_schema(fmt)
        known = schemas.setdefault(fmt.target, schema)
        if not known.equals(schema):
            raise AssertionError(f"formats landing in {fmt.target} disagree on its columns")
    return schemas


def ensure_landing(root: Path) -> None:
    """Create the table folders, each with its empty ``schema.parquet`` (idempotent)."""
    for table, schema in table_schemas().items():
        folder = root / table
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / "schema.parquet"
        if not marker.is_file():
            partial = folder / f".schema-{uuid.uuid4().hex}.parquet"
            pq.write_table(schema.empty_table(), partial)
            partial.replace(marker)
    (root / ".incoming").mkdir(exist_ok=True)


def _load_ids(folder: Path) -> set[int]:
    return {int(m.group(1)) for p in folder.glob("load-*.parquet") if (m := _LOAD_FILE_RE.fullmatch(p.name))}


def _load_file(load_id: int) -> str:
    return f"load-{load_id:010d}.parquet"


def _recover(root: Path) -> None:
    """Remove what killed loads left (under the lock): their folders and files without a batch row."""
    for leftover in (root / ".incoming").iterdir():
        shutil.rmtree(leftover, ignore_errors=True)
    committed = _load_ids(root / "load_batches")
    for table in table_schemas():
        if table in ("load_batches", "load_failures"):
            continue
        for orphan in _load_ids(root / table) - committed:
            log.warning("removing %s/%s: its load never committed", table, _load_file(orphan))
            (root / table / _load_file(orphan)).unlink()


def _batches(root: Path) -> pa.Table:
    return pq.read_table(root / "load_batches", schema=BATCHES_SCHEMA)


class _ParquetSink:
    """Streams checked rows into one Parquet file, converting COPY text values to typed columns."""

    def __init__(self, path: Path, layout: Layout, load_id: int, rows: CheckedRows) -> None:
        self._schema = table_schema(layout.fmt)
        self._fields = layout.fmt.fields
        self._load_id = load_id
        self._rows = rows
        self._writer = pq.ParquetWriter(path, self._schema)

    def write(self) -> None:
        try:
            for batch in self._rows.batches():
                self._write_batch(batch)
        finally:
            self._writer.close()

    def _column(self, index: int, batch: list[CheckedRow]) -> tuple[pa.Array, dict[int, str]]:
        """One column of the batch, typed; the rows (by position) whose value does not fit, with the reason."""
        field = self._fields[index]
        kind = self._schema.field(index + 2).type
        values = [None if row[1][index] == NULL else row[1][index] for row in batch]
        if pa.types.is_string(kind):
            return pa.array([None if v is None else copy_unescape(v) for v in values], type=kind), {}
        if not pa.types.is_decimal(kind):
            # the converters already checked these: the cast cannot fail
            return pc.cast(pa.array(values, type=pa.string()), kind), {}
        try:
            return pc.cast(pa.array(values, type=pa.string()), kind), {}
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        numbers: list[Decimal | None] = []
        misfits: dict[int, str] = {}
        for position, value in enumerate(values):
            number = None if value is None else Decimal(value)
            if number is not None:
                try:
                    exact = number.quantize(_NUMBER_QUANTUM) == number and abs(number) < _NUMBER_LIMIT
                except InvalidOperation:
                    exact = False
                if not exact:
                    misfits[position] = (
                        f"{field.header}: {value[:40]!r} does not fit decimal"
                        f"({NUMBER.precision}, {NUMBER.scale}) of the Parquet landing"
                    )
                    number = None
            numbers.append(number)
        return pa.array(numbers, type=kind), misfits

    def _write_batch(self, batch: list[CheckedRow]) -> None:
        columns: list[pa.Array] = []
        misfits: dict[int, str] = {}
        for index in range(len(self._fields)):
            array, bad = self._column(index, batch)
            columns.append(array)
            for position, reason in bad.items():
                misfits.setdefault(position, reason)
        lineage = [
            pa.array([self._load_id] * len(batch), type=pa.int64()),
            pa.array([row[0] for row in batch], type=pa.int64()),
        ]
        table = pa.Table.from_arrays(lineage + columns, schema=self._schema)
        if misfits:
            for position, reason in sorted(misfits.items()):
                line_number, _, raw = batch[position]
                self._rows.reject(line_number, reason, raw)
            keep = pa.array([position not in misfits for position in range(len(batch))])
            table = table.filter(keep)
        self._writer.write_table(table, row_group_size=ROWS_PER_GROUP)


def _write_quarantine(spool: IO[str], path: Path) -> int:
    """The spooled rejects (COPY text lines) as Parquet; returns how many."""
    spool.seek(0)
    count = 0
    with pq.ParquetWriter(path, QUARANTINE_SCHEMA) as writer:
        chunk: list[list[str]] = []

        def flush() -> None:
            load_ids, lines, reasons, raws = zip(*chunk, strict=True) if chunk else ((), (), (), ())
            writer.write_table(
                pa.table(
                    [
                        pa.array([int(v) for v in load_ids], type=pa.int64()),
                        pa.array([int(v) for v in lines], type=pa.int64()),
                        pa.array([copy_unescape(v) for v in reasons], type=pa.string()),
                        pa.array([copy_unescape(v) for v in raws], type=pa.string()),
                    ],
                    schema=QUARANTINE_SCHEMA,
                )
            )
            chunk.clear()

        for line in spool:
            chunk.append(line.rstrip("\n").split("\t"))
            count += 1
            if len(chunk) >= ROWS_PER_GROUP:
                flush()
        flush()
    return count


def land_file(
    root: Path,
    path: Path,
    formats_: tuple[Format, ...],
    *,
    forced_format: Format | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> LoadResult:
    """Land one file as Parquet under ``root``; raises FileProblem when the file cannot be used."""
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    layout = detect_layout(path, formats_, forced_format=forced_format, encoding=encoding, delimiter=delimiter)
    target = layout.fmt.target
    result = LoadResult(path=path, status="loaded", fmt=layout.fmt.name, load_path="parquet")
    ensure_landing(root)
    with fasteners.InterProcessLock(str(root / ".lock")):
        _recover(root)
        batches = _batches(root)
        mine = batches.filter(pc.equal(batches["target"], target))

        def landed_before(digest: Fingerprint) -> bool:
            same = mine.filter(pc.equal(mine["file_sha256"], digest.sha256)).to_pylist()
            if not same:
                return False
            result.status = "duplicate"
            result.duplicate_of, result.duplicate_rows = same[0]["load_id"], same[0]["rows_loaded"]
            result.seconds = time.perf_counter() - started
            return True

        digest: Fingerprint | None = None
        size = content_size_hint(path)
        # as on PostgreSQL: hash first only when a landed file may be this one
        if size is None or any(b % 2**32 == size % 2**32 for b in mine["file_bytes"].to_pylist()):
            digest = fingerprint(path)
            if landed_before(digest):
                return result
        existing = batches["load_id"].to_pylist()
        load_id = max(existing, default=0) + 1
        incoming = root / ".incoming" / f"{load_id}-{uuid.uuid4().hex}"
        incoming.mkdir()
        try:
            with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
                hasher = Hasher()
                rows = CheckedRows(path, layout, load_id, spool, hasher, rows_per_batch=ROWS_PER_GROUP)
                _ParquetSink(incoming / "data.parquet", layout, load_id, rows).write()
                counts = rows.counts
                if digest is None:
                    digest = hasher.result() or fingerprint(path)
                    if landed_before(digest):
                        return result
                quarantined = _write_quarantine(spool, incoming / "quarantine.parquet")
                if quarantined != counts.rows_quarantined:
                    raise AssertionError(f"{path}: quarantine count mismatch")
            batch = {
                "load_id": load_id,
                "target": target,
                "source_format": layout.fmt.name,
                "file_name": display_name(path),
                "file_sha256": digest.sha256,
                "file_bytes": digest.size,
                "encoding": layout.encoding,
                "delimiter": layout.delimiter,
                "load_path": "parquet",
                "started_at": started_at,
                "loaded_at": datetime.now(UTC),
                "rows_read": counts.rows_read,
                "rows_loaded": counts.rows_loaded,
                "rows_quarantined": counts.rows_quarantined,
                "blank_lines": counts.blank_lines,
            }
            if batch["rows_read"] != batch["rows_loaded"] + batch["rows_quarantined"]:
                raise AssertionError(f"{path}: rows read do not balance loaded + quarantined")
            pq.write_table(pa.Table.from_pylist([batch], schema=BATCHES_SCHEMA), incoming / "batch.parquet")
            name = _load_file(load_id)
            os.replace(incoming / "data.parquet", root / target / name)
            os.replace(incoming / "quarantine.parquet", root / "load_quarantine" / name)
            os.replace(incoming / "batch.parquet", root / "load_batches" / name)  # the commit
        finally:
            shutil.rmtree(incoming, ignore_errors=True)
    result.load_id = load_id
    result.rows_read = counts.rows_read
    result.rows_loaded = counts.rows_loaded
    result.rows_quarantined = counts.rows_quarantined
    result.blank_lines = counts.blank_lines
    result.reasons = counts.reasons
    result.seconds = time.perf_counter() - started
    return result


def _record_failure(root: Path, problem: FileProblem) -> None:
    ensure_landing(root)
    failure_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"
    row = {
        "failure_id": failure_id,
        "file_name": display_name(problem.path),
        "failed_at": datetime.now(UTC),
        "line_number": problem.line,
        "problem": printable_raw(problem.problem),
    }
    partial = root / "load_failures" / f".failure-{failure_id}.parquet"  # engines skip dot files
    pq.write_table(pa.Table.from_pylist([row], schema=FAILURES_SCHEMA), partial)
    os.replace(partial, root / "load_failures" / f"failure-{failure_id}.parquet")


def land_files(
    root: Path,
    paths: list[Path],
    formats_: tuple[Format, ...],
    *,
    forced_format: Format | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> list[LoadResult]:
    """Land each file on its own as Parquet: one that fails does not stop or spoil the others."""

    def land(path: Path) -> LoadResult:
        return land_file(root, path, formats_, forced_format=forced_format, encoding=encoding, delimiter=delimiter)

    return land_each(
        paths,
        land,
        lambda problem: _record_failure(root, problem),
        (OSError,),
        lambda path, exc: f"{path}: the landing folder {root} refused: {exc}",
    )
