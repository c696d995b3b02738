"""The inbox lifecycle: pending files in ``inbox/<kind>/``; after their load has
committed, landed (or already-landed) files move to ``archive/<load date>/<kind>/``
and refused ones to ``rejected/<kind>/`` with a ``.reason.txt`` beside them.

A file is moved only after ``load_file`` returned, i.e. after its transaction
committed. Killed in between, the file stays in the inbox; the next run finds
its content hash in ``staging.load_batches``, skips it (no double count) and
archives it then.
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

from loaders.load import LoadResult

log = logging.getLogger("segmart")

KINDS = ("sales", "bank")
# .xls is picked up to be refused with the advice to save it as .xlsx or .csv
SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz", ".gz", ".xlsx", ".xls")


def pending(inbox: Path, kind: str) -> list[Path]:
    folder = inbox / kind
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(SUFFIXES))


def _free_name(folder: Path, name: str) -> Path:
    """``name`` in ``folder``, or ``name`` with ``.1``, ``.2`` ... before its suffixes when taken."""
    candidate = folder / name
    if not candidate.exists():
        return candidate
    stem, dot, suffixes = name.partition(".")
    counter = 1
    while True:
        candidate = folder / f"{stem}.{counter}{dot}{suffixes}"
        if not candidate.exists() and not Path(str(candidate) + ".reason.txt").exists():
            return candidate
        counter += 1


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, path.name)
    shutil.move(str(path), str(target))  # works across file systems (a network share)
    return target


def archive(path: Path, archive_dir: Path, kind: str, *, when: datetime | None = None) -> Path:
    day = (when or datetime.now(UTC)).astimezone().date().isoformat()
    target = _move(path, archive_dir / day / kind)
    log.info("archived %s -> %s", path.name, target)
    return target


def reject(path: Path, rejected_dir: Path, kind: str, reason: str) -> Path:
    target = _move(path, rejected_dir / kind)
    stamp = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    Path(str(target) + ".reason.txt").write_text(
        f"{target.name} was refused on {stamp}:\n{reason}\n\n"
        "Fix the file and drop it into the inbox again; nothing of it was loaded.\n",
        encoding="utf-8",
    )
    log.warning("rejected %s -> %s (reason beside it)", path.name, target)
    return target


def settle(result: LoadResult, kind: str, archive_dir: Path, rejected_dir: Path) -> None:
    """Move one inbox file according to its (committed) load result."""
    if not result.path.exists():
        return
    if result.status in {"loaded", "duplicate"}:
        archive(result.path, archive_dir, kind)
    elif result.unusable:
        reject(result.path, rejected_dir, kind, result.error or "unusable file")
    else:
        log.warning(
            "%s stays in the inbox: the database refused it (%s); the next run retries", result.path.name, result.error
        )
