"""The ``sales`` and ``bank`` commands: land files in staging and summarise what happened."""

from __future__ import annotations

import logging
from pathlib import Path

from loaders.formats import ALL_FORMATS, Format
from loaders.load import LoadResult, load_files
from segmart import config, db

log = logging.getLogger("segmart")


def load_command(
    files: list[Path],
    formats: tuple[Format, ...],
    *,
    forced_format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    checked: bool = False,
    engine: str = "postgres",
) -> int:
    """Land ``files``; 0 when every file landed (or was skipped as already landed), 1 otherwise.

    ``engine`` spark lands them as Parquet in the landing folder instead of PostgreSQL's staging.
    """
    fmt = ALL_FORMATS[forced_format] if forced_format else None
    if engine == "spark":
        from loaders.parquet_landing import land_files

        return summarise(
            land_files(config.landing_dir(), files, formats, forced_format=fmt, encoding=encoding, delimiter=delimiter)
        )
    pg = db.connect()
    try:
        results = load_files(
            pg,
            files,
            formats,
            forced_format=fmt,
            encoding=encoding,
            delimiter=delimiter,
            checked=checked,
        )
    finally:
        pg.close()
    return summarise(results)


def summarise(results: list[LoadResult]) -> int:
    loaded = sum(r.rows_loaded for r in results)
    quarantined = sum(r.rows_quarantined for r in results)
    skipped = sum(r.blank_lines + r.duplicate_rows for r in results)
    failed = [r for r in results if r.status == "failed"]
    log.info(
        "total: %d file(s), %d failed; rows loaded %s, quarantined %s, skipped %s",
        len(results),
        len(failed),
        f"{loaded:,}",
        f"{quarantined:,}",
        f"{skipped:,}",
    )
    for result in results:
        if result.shrinkage:
            log.warning("%s: %s", result.path.name, result.shrinkage.text())
    return 1 if failed else 0
