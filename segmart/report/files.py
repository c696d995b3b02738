"""Output files: written under a temporary name and renamed, old reports pruned."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("segmart.report")

# the files this package writes: <family>_<run date YYYY-MM-DD>[_<sources>].<ext>; the
# date is the day of the run (not of the data), so the newest file is the latest run's
OUTPUT_NAME = re.compile(
    r"^(?P<family>segmart_report|segments_[a-z0-9_]+|cross_sell)_(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:_(?P<sources>[a-z0-9-]+))?\.(?P<ext>html|xlsx|csv)$"
)
DEMO_FOLDER = "demo"  # the demo's report and lists, apart from the user's own (removed when own data lands)
TEMP_PREFIX = ".~segmart-"
STALE_TEMP_SECONDS = 3600


@contextmanager
def atomic_output(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside `final`; on success it is fsynced and renamed to `final`.

    A reader of the folder sees the old file or the whole new one, never half of one;
    a failed or killed run leaves at most a hidden temporary file, removed by a later run.
    """
    temp = final.with_name(f"{TEMP_PREFIX}{os.getpid()}-{final.name}")
    try:
        yield temp
        with temp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, final)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def remove_stale_temps(folder: Path, *, older_than: float = STALE_TEMP_SECONDS) -> None:
    """Temporary files of runs that were killed (older than an hour, so never a running one's)."""
    cutoff = time.time() - older_than
    for path in folder.glob(f"{TEMP_PREFIX}*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                log.info("removed %s, left by an interrupted report run", path.name)
        except FileNotFoundError:
            continue


def prune(folder: Path, keep: int) -> list[Path]:
    """Keep the newest `keep` files (by the date in the name) of every kind; returns what was removed."""
    groups: dict[tuple[str, str], list[tuple[str, Path]]] = {}
    for path in folder.iterdir():
        match = OUTPUT_NAME.match(path.name)
        if match and path.is_file():
            groups.setdefault((match["family"], match["ext"]), []).append((match["date"], path))
    removed = []
    for found in groups.values():
        found.sort()
        for _, path in found[: max(0, len(found) - keep)]:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
